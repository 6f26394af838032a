import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { acceptOffer, declineOffer, loadWaitlist } from '../../../application/waitlist/waitlist-commands.js';
import { loadNotificationSettings } from '../../../application/notifications/notification-settings.js';
import type { OfferClaim } from '../../../application/ports/claim-links.port.js';
import { DomainError } from '../../../domain/shared/errors.js';
import { findOffer } from '../../../domain/waitlist/waitlist.decider.js';
import type { HttpDeps } from '../http-deps.js';
import { renderClaimPage, renderInvalidClaimPage, type ClaimPageState } from '../pages/claim-page.js';

const FORM = 'application/x-www-form-urlencoded';
const TENANT = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

interface ClaimParams {
  tenant: string;
  token: string;
}

/** The token is a capability in the URL: it must not leak through Referer, caches or search engines. */
function pageHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('x-robots-tag', 'noindex')
    .header('x-content-type-options', 'nosniff')
    .header(
      'content-security-policy',
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
}

function preferredLocale(request: FastifyRequest): string {
  const header = String(request.headers['accept-language'] ?? '').slice(0, 200);
  return header.split(',')[0]?.split(';')[0]?.trim() || 'en';
}

/**
 * The public claim page of a waitlist offer (no API key: the signed link is the key, for that one offer only).
 * Bounded work, cheap checks first: the tenant and token shapes, then the HMAC, then one stream read. GET only
 * shows (link scanners in mail clients open links); the answers are POSTs, each followed by a redirect to the page.
 */
export function claimPageRoutes(deps: HttpDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    // Scoped to these routes: the buttons post empty forms.
    app.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: 1024 }, (_request, _body, done) => done(null, {}));

    const claimOf = (request: FastifyRequest<{ Params: ClaimParams }>): OfferClaim | null => {
      const { tenant, token } = request.params;
      if (!TENANT.test(tenant)) return null;
      return deps.claimLinks.verify(tenant, token, deps.clock.now());
    };

    const invalid = (request: FastifyRequest, reply: FastifyReply) =>
      pageHeaders(reply)
        .code(404)
        .send(renderInvalidClaimPage(preferredLocale(request)));

    const show = async (request: FastifyRequest<{ Params: ClaimParams }>, reply: FastifyReply) => {
      const claim = claimOf(request);
      if (!claim) return invalid(request, reply);
      const { state } = await loadWaitlist(deps.eventStore, claim.tenantId, claim.waitlistId);
      const found = state.status === 'none' ? undefined : findOffer(state, claim.offerId);
      if (!found || state.status === 'none') return invalid(request, reply);
      const { entry, offer } = found;
      const now = deps.clock.now().getTime();
      const pageState: ClaimPageState =
        offer.status === 'accepted'
          ? { kind: 'accepted', reservationId: offer.reservationId }
          : offer.status === 'declined'
            ? { kind: 'declined' }
            : offer.status === 'withdrawn'
              ? { kind: 'withdrawn' }
              : offer.status === 'expired' || Date.parse(offer.expiresAt) <= now
                ? { kind: 'expired', expiresAt: offer.expiresAt }
                : { kind: 'open', expiresAt: offer.expiresAt };
      const settings = await loadNotificationSettings(deps.eventStore, claim.tenantId);
      return pageHeaders(reply)
        .code(200)
        .send(
          renderClaimPage({
            locale: entry.customer.locale,
            senderName: settings.sender.name,
            customerName: entry.customer.name,
            serviceName: state.slot.serviceName,
            locationName: state.slot.location.name,
            locationAddress: state.slot.location.address,
            timeZone: state.slot.location.timeZone,
            start: state.slot.start,
            end: state.slot.end,
            partySize: entry.partySize,
            state: pageState,
            path: request.url.split('?')[0]!.replace(/\/+$/, ''),
          }),
        );
    };

    const answer =
      (verb: 'accept' | 'decline') => async (request: FastifyRequest<{ Params: ClaimParams }>, reply: FastifyReply) => {
        const claim = claimOf(request);
        if (!claim) return invalid(request, reply);
        const context = {
          tenantId: claim.tenantId,
          actor: 'customer:claim-link',
          correlationId: request.id,
        };
        try {
          if (verb === 'accept') await acceptOffer(deps.waitlist, context, claim.waitlistId, claim.offerId, 'link');
          else await declineOffer(deps.waitlist, context, claim.waitlistId, claim.offerId, 'link');
        } catch (error) {
          // Too late, already answered, no longer held: the page says what the offer has become.
          if (!(error instanceof DomainError)) throw error;
        }
        const page = request.url.split('?')[0]!.replace(/\/(accept|decline)\/?$/, '');
        return pageHeaders(reply).code(303).header('location', page).send('');
      };

    // Customers open this page from an email or SMS: mail clients and link scanners add tracking parameters
    // (utm_*, ...), which must not turn a claim link into an error page.
    const config = { public: true, ignoreUnknownQuery: true };
    const schema = { hide: true };
    app.get<{ Params: ClaimParams }>('/claim/:tenant/:token', { config, schema }, show);
    app.post<{ Params: ClaimParams }>('/claim/:tenant/:token/accept', { config, schema }, answer('accept'));
    app.post<{ Params: ClaimParams }>('/claim/:tenant/:token/decline', { config, schema }, answer('decline'));
  };
}
