import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { escapeHtml, resolveLanguage } from '../../../domain/notification/index.js';
import type { HttpDeps } from '../http-deps.js';
import type { PageName } from '../web-assets.js';

const TENANT = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const TOKEN = /^[A-Za-z0-9_-]{16,800}$/;

const LOADING: Record<'en' | 'cs' | 'nb', { loading: string; noScript: string; title: Record<PageName, string> }> = {
  en: {
    loading: 'Loading…',
    noScript: 'This page needs JavaScript switched on.',
    title: { booking: 'Book', customer: 'Your booking', staff: 'Staff console' },
  },
  cs: {
    loading: 'Načítání…',
    noScript: 'Tato stránka potřebuje zapnutý JavaScript.',
    title: { booking: 'Rezervace', customer: 'Vaše rezervace', staff: 'Konzole pro personál' },
  },
  nb: {
    loading: 'Laster…',
    noScript: 'Denne siden trenger JavaScript.',
    title: { booking: 'Bestill', customer: 'Din bestilling', staff: 'Ansattkonsoll' },
  },
};

/** The page's language before the API says better: ?lang=, else the browser's first choice, else English. */
export function pageLanguage(request: FastifyRequest): 'en' | 'cs' | 'nb' {
  const query = request.query as { lang?: unknown } | undefined;
  if (typeof query?.lang === 'string' && query.lang.length <= 35) return resolveLanguage(query.lang);
  const header = String(request.headers['accept-language'] ?? '').slice(0, 200);
  return resolveLanguage(header.split(',')[0]?.split(';')[0]?.trim() || 'en');
}

/** Scripts and styles from this origin only; the API on this origin; no frames, no inline script. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: blob:; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * The pages: an HTML shell (the language, the title, a loading line for the first paint) and the page's script,
 * which draws the page from the public API (/v1). Pages whose URL carries a capability (the customer's page) are
 * never cached and never sent as a Referer.
 */
export function webPageRoutes(deps: HttpDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    const shell = (page: PageName) => async (request: FastifyRequest, reply: FastifyReply) => {
      const language = pageLanguage(request);
      const texts = LOADING[language];
      const html = [
        '<!DOCTYPE html>',
        `<html lang="${language}">`,
        '<head>',
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light">',
        `<title>${escapeHtml(texts.title[page])}</title>`,
        `<link rel="stylesheet" href="${deps.web.styles}">`,
        `<script type="module" src="${deps.web.script(page)}"></script>`,
        '</head>',
        `<body data-page="${page}">`,
        `<main id="app" class="page"><p class="loading" role="status">${escapeHtml(texts.loading)}</p></main>`,
        `<noscript><p class="page">${escapeHtml(texts.noScript)}</p></noscript>`,
        '</body>',
        '</html>',
        '',
      ].join('\n');
      return reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer')
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', CSP)
        .header('x-robots-tag', page === 'booking' ? 'all' : 'noindex')
        .send(html);
    };
    const notFound = (reply: FastifyReply) =>
      reply.code(404).header('content-type', 'text/plain; charset=utf-8').send('Not found\n');

    // Pages people open from a message or a bookmark: tracking parameters that mail clients and link checkers add are
    // ignored, as on the claim page (decision 0016); the pages read only ?lang=, ?date= and ?tenant=.
    const config = { public: true, ignoreUnknownQuery: true };
    const schema = { hide: true };
    app.get<{ Params: { tenant: string } }>('/book/:tenant', { config, schema }, (request, reply) =>
      TENANT.test(request.params.tenant) ? shell('booking')(request, reply) : notFound(reply),
    );
    app.get<{ Params: { token: string } }>('/my/:token', { config, schema }, (request, reply) =>
      TOKEN.test(request.params.token) ? shell('customer')(request, reply) : notFound(reply),
    );
    app.get('/staff', { config, schema }, shell('staff'));
    app.get<{ Params: { name: string } }>('/assets/:name', { config, schema }, async (request, reply) => {
      const asset = deps.web.file(request.params.name);
      if (!asset) return notFound(reply);
      return reply
        .header('content-type', asset.contentType)
        .header('cache-control', 'public, max-age=31536000, immutable')
        .header('x-content-type-options', 'nosniff')
        .send(asset.body);
    });
  };
}
