import { escapeHtml, resolveLanguage, type Language } from '../../../domain/notification/index.js';

/**
 * The public claim page of a waitlist offer: what is offered, until when, Accept and Decline. Plain HTML with two
 * forms (no JavaScript), phone-first, in the customer's language. Every value is escaped.
 */
export type ClaimPageState =
  | { readonly kind: 'open'; readonly expiresAt: string }
  | { readonly kind: 'accepted'; readonly reservationId: string }
  | { readonly kind: 'declined' }
  | { readonly kind: 'expired'; readonly expiresAt: string }
  | { readonly kind: 'withdrawn' };

export interface ClaimPageModel {
  readonly locale: string;
  readonly senderName: string;
  readonly customerName: string;
  readonly serviceName: string;
  readonly locationName: string;
  readonly locationAddress: string;
  readonly timeZone: string;
  readonly start: string;
  readonly end: string;
  readonly partySize: number;
  readonly state: ClaimPageState;
  /** Where the forms post: `<path>/accept` and `<path>/decline`. */
  readonly path: string;
}

interface ClaimTexts {
  readonly title: Record<ClaimPageState['kind'], string>;
  readonly lead: (state: ClaimPageState, until: string) => string;
  readonly service: string;
  readonly when: string;
  readonly where: string;
  readonly party: string;
  readonly heldUntil: string;
  readonly reservation: string;
  readonly accept: string;
  readonly decline: string;
  readonly declineHint: string;
  readonly invalidTitle: string;
  readonly invalidLead: string;
}

const TEXTS: Readonly<Record<Language, ClaimTexts>> = {
  en: {
    title: {
      open: 'A place is free for you',
      accepted: 'The place is yours',
      declined: 'You let the place go',
      expired: 'This offer has expired',
      withdrawn: 'This offer is no longer available',
    },
    lead: (state, until) =>
      state.kind === 'open'
        ? `It is held for you until ${until}. Take it, or let it go so the next person waiting can have it.`
        : state.kind === 'accepted'
          ? 'Your reservation is confirmed. A confirmation is on its way to you.'
          : state.kind === 'declined'
            ? 'Thank you for letting us know. The place has been offered to the next person waiting.'
            : state.kind === 'expired'
              ? `The place was held until ${until} and has gone to the next person waiting.`
              : 'The place could not be kept for you. We are sorry.',
    service: 'Service',
    when: 'When',
    where: 'Where',
    party: 'Places',
    heldUntil: 'Held for you until',
    reservation: 'Reservation',
    accept: 'Take the place',
    decline: 'Let it go',
    declineHint: 'Letting it go gives the place to the next person waiting.',
    invalidTitle: 'This link does not work',
    invalidLead: 'The link is not valid or has run out. Please use the newest message we sent you.',
  },
  cs: {
    title: {
      open: 'Uvolnilo se pro vás místo',
      accepted: 'Místo je vaše',
      declined: 'Místo jste přenechali dalším',
      expired: 'Nabídka vypršela',
      withdrawn: 'Nabídka už neplatí',
    },
    lead: (state, until) =>
      state.kind === 'open'
        ? `Držíme ho pro vás do ${until}. Přijměte ho, nebo ho přenechte dalšímu čekajícímu.`
        : state.kind === 'accepted'
          ? 'Vaše rezervace je potvrzena. Potvrzení vám právě posíláme.'
          : state.kind === 'declined'
            ? 'Děkujeme, že jste nám dali vědět. Místo jsme nabídli dalšímu čekajícímu.'
            : state.kind === 'expired'
              ? `Místo jsme pro vás drželi do ${until}; nyní přešlo na dalšího čekajícího.`
              : 'Místo se pro vás bohužel nepodařilo udržet. Omlouváme se.',
    service: 'Služba',
    when: 'Termín',
    where: 'Místo',
    party: 'Počet míst',
    heldUntil: 'Drženo pro vás do',
    reservation: 'Rezervace',
    accept: 'Přijmout místo',
    decline: 'Přenechat dalším',
    declineHint: 'Když místo přenecháte, dostane ho další čekající.',
    invalidTitle: 'Odkaz nefunguje',
    invalidLead: 'Odkaz není platný nebo už vypršel. Použijte prosím naši nejnovější zprávu.',
  },
  nb: {
    title: {
      open: 'En plass er ledig for deg',
      accepted: 'Plassen er din',
      declined: 'Du har sagt fra deg plassen',
      expired: 'Tilbudet har utløpt',
      withdrawn: 'Tilbudet gjelder ikke lenger',
    },
    lead: (state, until) =>
      state.kind === 'open'
        ? `Den holdes av til deg til ${until}. Ta den, eller si fra deg den slik at neste på ventelisten kan få den.`
        : state.kind === 'accepted'
          ? 'Reservasjonen din er bekreftet. En bekreftelse er på vei til deg.'
          : state.kind === 'declined'
            ? 'Takk for beskjeden. Plassen er tilbudt neste på ventelisten.'
            : state.kind === 'expired'
              ? `Plassen ble holdt av til ${until} og har gått videre til neste på ventelisten.`
              : 'Plassen kunne dessverre ikke holdes av til deg. Beklager.',
    service: 'Tjeneste',
    when: 'Tid',
    where: 'Sted',
    party: 'Plasser',
    heldUntil: 'Holdes av til',
    reservation: 'Reservasjon',
    accept: 'Ta plassen',
    decline: 'Si fra meg plassen',
    declineHint: 'Sier du fra deg plassen, går den til neste på ventelisten.',
    invalidTitle: 'Lenken virker ikke',
    invalidLead: 'Lenken er ugyldig eller utløpt. Bruk den nyeste meldingen vi har sendt deg.',
  },
};

const STYLE = `
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;font-size:17px;line-height:1.5;
color:#1b1b1b;background:#f4f5f7}
main{max-width:32rem;margin:0 auto;padding:1.25rem}
.card{background:#fff;border-radius:12px;padding:1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
.sender{color:#4a4a4a;font-size:.9rem;margin:0 0 .5rem}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 .75rem}
dl{margin:1rem 0;display:grid;grid-template-columns:auto 1fr;gap:.35rem 1rem}
dt{color:#4a4a4a}
dd{margin:0;font-weight:600}
.until{background:#fff4ce;border-radius:8px;padding:.6rem .8rem;margin:1rem 0}
form{margin:.75rem 0 0}
button{display:block;width:100%;min-height:3rem;border-radius:8px;font:inherit;font-weight:600;cursor:pointer;
padding:.75rem 1rem;border:2px solid #1a5fb4}
button:focus-visible{outline:3px solid #000;outline-offset:2px}
.accept{background:#1a5fb4;color:#fff}
.decline{background:#fff;color:#1a5fb4}
.hint{color:#4a4a4a;font-size:.9rem;margin:.4rem 0 0}
`;

function formatters(locale: string, timeZone: string) {
  const language = resolveLanguage(locale);
  let tag = language as string;
  try {
    const [canonical] = Intl.getCanonicalLocales(locale);
    if (canonical && canonical.toLowerCase().split('-')[0] === language) tag = canonical;
  } catch {
    // keep the language
  }
  const long = new Intl.DateTimeFormat(tag, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZone,
    timeZoneName: 'short',
  });
  const short = new Intl.DateTimeFormat(tag, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: 'numeric',
    minute: '2-digit',
    timeZone,
    timeZoneName: 'short',
  });
  const plain = (text: string) => text.replace(/[\u00a0\u202f\u2009]/g, ' ');
  return {
    language,
    range: (start: string, end: string) => plain(long.formatRange(new Date(start), new Date(end))),
    short: (at: string) => plain(short.format(new Date(at))),
  };
}

function page(language: Language, title: string, body: string): string {
  return [
    '<!DOCTYPE html>',
    `<html lang="${language}">`,
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<main><div class="card">${body}</div></main>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

export function renderClaimPage(model: ClaimPageModel): string {
  const fmt = formatters(model.locale, model.timeZone);
  const t = TEXTS[fmt.language];
  const state = model.state;
  const until = 'expiresAt' in state ? fmt.short(state.expiresAt) : '';
  const title = t.title[state.kind];
  const rows: [string, string][] = [
    [t.service, model.serviceName],
    [t.when, fmt.range(model.start, model.end)],
    [t.where, [model.locationName, model.locationAddress].filter(Boolean).join(', ')],
    [t.party, String(model.partySize)],
  ];
  if (state.kind === 'accepted') rows.push([t.reservation, state.reservationId]);
  const parts = [
    `<p class="sender">${escapeHtml(model.senderName)}</p>`,
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>${escapeHtml(t.lead(state, until))}</p>`,
    `<dl>${rows.map(([label, value]) => `<dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd>`).join('')}</dl>`,
  ];
  if (state.kind === 'open') {
    parts.push(
      `<p class="until" role="status">${escapeHtml(t.heldUntil)}: <strong>${escapeHtml(until)}</strong></p>`,
      `<form method="post" action="${escapeHtml(model.path)}/accept"><button class="accept" type="submit">${escapeHtml(t.accept)}</button></form>`,
      `<form method="post" action="${escapeHtml(model.path)}/decline"><button class="decline" type="submit">${escapeHtml(t.decline)}</button></form>`,
      `<p class="hint">${escapeHtml(t.declineHint)}</p>`,
    );
  }
  return page(fmt.language, title, parts.join('\n'));
}

/** The answer to a link that is not valid (bad signature, run out, unknown offer): the same page for each. */
export function renderInvalidClaimPage(locale: string): string {
  const language = resolveLanguage(locale);
  const t = TEXTS[language];
  return page(language, t.invalidTitle, `<h1>${escapeHtml(t.invalidTitle)}</h1>\n<p>${escapeHtml(t.invalidLead)}</p>`);
}
