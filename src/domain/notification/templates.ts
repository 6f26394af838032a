import { neutraliseText, type TextKind } from '../shared/text.js';
import { ValidationError } from '../shared/errors.js';
import type { Channel, NotificationKind } from './kinds.js';
import { NOTIFICATION_KINDS } from './kinds.js';
import type { Catalogue, Language, TemplateVars } from './locales/catalogue.js';
import { cs } from './locales/cs.js';
import { en } from './locales/en.js';
import { nb } from './locales/nb.js';
import type { SmsAnalysis } from './sms-encoding.js';
import { analyzeSms } from './sms-encoding.js';
import { parseInstant } from './validation.js';

export type { Language } from './locales/catalogue.js';

/**
 * Everything a standard message is rendered from. Instants are ISO-8601 with an offset; they are shown in
 * `timeZone` (the location's zone) in the format of `locale` (the customer's BCP 47 tag).
 */
export interface MessageContext {
  readonly reservationId: string;
  /** The reservation's short code (reservation-code.ts): what customers read instead of the id, when it has one. */
  readonly code?: string;
  readonly customerName: string;
  readonly serviceName: string;
  /** The service's general information for customers; shown in emails about the booking itself. */
  readonly serviceDescription?: string;
  readonly locationName: string;
  readonly locationAddress?: string;
  readonly start: string;
  readonly end: string;
  /** IANA zone of the location. */
  readonly timeZone: string;
  /** BCP 47 tag of the recipient (`cs`, `nb-NO`, `en-GB`); the text language is taken from its language subtag. */
  readonly locale: string;
  /** Required by `reservation-rescheduled`. */
  readonly previousStart?: string;
  /** In major units of `currency` (e.g. 450.5 CZK). Required, with `currency`, by `payment-received`. */
  readonly amount?: number;
  /** ISO 4217. */
  readonly currency?: string;
  /** Whether payment is already recorded; `afterPaymentText` goes into a confirmation only when it is. */
  readonly paid?: boolean;
  /** Text the tenant shows only once the reservation is paid (payment-received, and a confirmation when paid). */
  readonly afterPaymentText?: string;
  /** Global footer, emails only. */
  readonly footer?: string;
  readonly senderName: string;
  /** Required by `waitlist-offer`. */
  readonly offer?: { readonly expiresAt: string };
  /** For `reservation-reminder`: how long before the start it is sent. */
  readonly minutesBefore?: number;
  /** Required by `reservation-cancelled`: who cancelled, which changes the wording. */
  readonly cancelledBy?: 'customer' | 'staff';
  /** Optional reason shown in cancellations and declines. */
  readonly reason?: string;
  /** Required by `staff-alert`. */
  /** `slot`: about a slot (a waitlist), not one reservation — named by its service, without a reservation code. */
  readonly alert?: { readonly message: string; readonly slot?: boolean };
  /** Required by `waitlist-joined`: the place in line (1 = next). */
  readonly position?: number;
  /** Required by `waitlist-offer`: the signed link of the offer's claim page. */
  readonly claimUrl?: string;
  /**
   * The signed link of the customer's own page (their reservation or waitlist entry, its messages, cancelling,
   * moving, the calendar file, their message preferences). Customer messages only: it is the customer's key.
   */
  readonly pageUrl?: string;
}

/** Who reads the message: the customer, or staff/admins/custom recipients who get a neutral summary. */
export type Audience = 'customer' | 'staff';

export interface RenderedEmail {
  readonly channel: 'email';
  readonly language: Language;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

export interface RenderedSms {
  readonly channel: 'sms';
  readonly language: Language;
  readonly text: string;
  readonly sms: SmsAnalysis;
}

export type RenderedMessage = RenderedEmail | RenderedSms;

const CATALOGUES: Readonly<Record<Language, Catalogue>> = { en, cs, nb };
export const SUPPORTED_LANGUAGES: readonly Language[] = ['en', 'cs', 'nb'];

/** `cs-CZ` -> cs, `no`/`nn`/`nb-NO` -> nb (Bokmål is what we have), anything else -> en. */
export function resolveLanguage(locale: string): Language {
  const primary = locale.trim().toLowerCase().split(/[-_]/)[0] ?? '';
  if (primary === 'cs') return 'cs';
  if (primary === 'nb' || primary === 'no' || primary === 'nn') return 'nb';
  return 'en';
}

/** The tag given to Intl: the recipient's own when its language is the text's language, so the two agree. */
function intlLocale(locale: string, language: Language): string {
  try {
    const [canonical] = Intl.getCanonicalLocales(locale);
    if (canonical !== undefined && canonical.toLowerCase().split('-')[0] === language) return canonical;
  } catch {
    // an invalid tag falls back to the language
  }
  return language;
}

const LONG_FORMAT: Intl.DateTimeFormatOptions = {
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  timeZoneName: 'short',
};
const SHORT_FORMAT: Intl.DateTimeFormatOptions = {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  hour: 'numeric',
  minute: '2-digit',
  timeZoneName: 'short',
};

/** Intl separates with narrow/no-break spaces; plain spaces keep SMS in GSM-7 and tests readable. */
function plainSpaces(text: string): string {
  return text.replace(/[\u00a0\u2007\u2009\u202f]/g, ' ');
}

/**
 * Any value rendered into a subject, an SMS or a table row: one line, and neutral (shared/text.ts). Input is refused
 * when unsafe, but events recorded before that rule may still carry such characters, and a fact cannot be refused.
 */
function oneLine(text: string): string {
  return neutraliseText(text, 'line').replace(/\s+/g, ' ').trim();
}

/** A paragraph of a message body (descriptions, footers): line breaks kept, other unsafe characters dropped. */
function paragraph(text: string): string {
  return neutraliseText(text, 'multiline').trim();
}

interface Formatter {
  readonly language: Language;
  readonly locale: string;
  range(start: Date, end: Date): string;
  short(date: Date): string;
  date(date: Date): string;
  time(date: Date): string;
  /** Day, month and time without weekday or zone: the compact SMS form (`14. 3. 14:15`, `3/14, 2:15 PM`). */
  compact(date: Date): string;
  money(amount: number, currency: string): string;
  inAdvance(minutes: number): string;
}

/**
 * Formatters by (locale, zone). Building Intl formatters costs far more than using them, and a campaign renders one
 * message per recipient; they are immutable, so sharing them changes nothing. Bounded: cleared when full.
 */
const FORMATTERS = new Map<string, Formatter>();
const MAX_FORMATTERS = 256;

function formatterFor(ctx: Pick<MessageContext, 'locale' | 'timeZone'>): Formatter {
  const key = `${ctx.locale}\u0000${ctx.timeZone}`;
  const known = FORMATTERS.get(key);
  if (known) return known;
  const built = buildFormatter(ctx);
  if (FORMATTERS.size >= MAX_FORMATTERS) FORMATTERS.clear();
  FORMATTERS.set(key, built);
  return built;
}

function buildFormatter(ctx: Pick<MessageContext, 'locale' | 'timeZone'>): Formatter {
  const language = resolveLanguage(ctx.locale);
  const locale = intlLocale(ctx.locale, language);
  let long: Intl.DateTimeFormat;
  try {
    long = new Intl.DateTimeFormat(locale, { ...LONG_FORMAT, timeZone: ctx.timeZone });
  } catch {
    throw new ValidationError('invalid-time-zone', `Unknown time zone ${ctx.timeZone}.`, { field: 'timeZone' });
  }
  const short = new Intl.DateTimeFormat(locale, { ...SHORT_FORMAT, timeZone: ctx.timeZone });
  const dateOnly = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: ctx.timeZone });
  const timeOnly = new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit', timeZone: ctx.timeZone });
  const relative = new Intl.RelativeTimeFormat(locale, { numeric: 'always' });
  const compact = new Intl.DateTimeFormat(locale, {
    day: 'numeric',
    month: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZone: ctx.timeZone,
  });
  return {
    language,
    locale,
    range: (start, end) => plainSpaces(long.formatRange(start, end)),
    short: (date) => plainSpaces(short.format(date)),
    date: (date) => plainSpaces(dateOnly.format(date)),
    time: (date) => plainSpaces(timeOnly.format(date)),
    compact: (date) => plainSpaces(compact.format(date)),
    money: (amount, currency) => {
      try {
        return plainSpaces(new Intl.NumberFormat(locale, { style: 'currency', currency }).format(amount));
      } catch {
        throw new ValidationError('invalid-currency', `Unknown currency ${currency}.`, { field: 'currency' });
      }
    },
    inAdvance: (minutes) => {
      // "in 24 hours" reads better than "in 1 day" for a reminder; days only from two days on.
      if (minutes % 1440 === 0 && minutes >= 2880) return plainSpaces(relative.format(minutes / 1440, 'day'));
      if (minutes % 60 === 0) return plainSpaces(relative.format(minutes / 60, 'hour'));
      return plainSpaces(relative.format(minutes, 'minute'));
    },
  };
}

function missing(kind: NotificationKind, field: string): ValidationError {
  return new ValidationError('missing-template-field', `The ${kind} message needs ${field}.`, { field, kind });
}

const REQUIRED_TEXT_FIELDS = ['reservationId', 'customerName', 'serviceName', 'locationName', 'senderName'] as const;

function validateContext(kind: NotificationKind, ctx: MessageContext): void {
  for (const field of REQUIRED_TEXT_FIELDS) {
    if (typeof ctx[field] !== 'string' || ctx[field].trim() === '') throw missing(kind, field);
  }
  const start = parseInstant(ctx.start, 'start');
  const end = parseInstant(ctx.end, 'end');
  if (end.getTime() < start.getTime()) {
    throw new ValidationError('invalid-instant', 'end must not be before start.', { field: 'end' });
  }
  if (kind === 'reservation-rescheduled') {
    if (ctx.previousStart === undefined) throw missing(kind, 'previousStart');
    parseInstant(ctx.previousStart, 'previousStart');
  }
  if (kind === 'payment-received') {
    if (ctx.amount === undefined) throw missing(kind, 'amount');
    if (ctx.currency === undefined) throw missing(kind, 'currency');
  }
  if (ctx.amount !== undefined && (!Number.isFinite(ctx.amount) || ctx.amount < 0)) {
    throw new ValidationError('invalid-amount', 'amount must be a non-negative number.', { field: 'amount' });
  }
  if (kind === 'waitlist-offer') {
    if (ctx.offer === undefined) throw missing(kind, 'offer.expiresAt');
    parseInstant(ctx.offer.expiresAt, 'offer.expiresAt');
  }
  if (kind === 'reservation-cancelled' && ctx.cancelledBy !== 'customer' && ctx.cancelledBy !== 'staff') {
    throw missing(kind, 'cancelledBy');
  }
  if (kind === 'staff-alert' && (ctx.alert?.message ?? '').trim() === '') throw missing(kind, 'alert.message');
  if (kind === 'waitlist-joined' && (!Number.isSafeInteger(ctx.position) || (ctx.position ?? 0) < 1)) {
    throw missing(kind, 'position');
  }
  if (kind === 'waitlist-offer' && !/^https?:\/\/\S+$/.test(ctx.claimUrl ?? '')) throw missing(kind, 'claimUrl');
  if (ctx.minutesBefore !== undefined && (!Number.isSafeInteger(ctx.minutesBefore) || ctx.minutesBefore <= 0)) {
    throw new ValidationError('invalid-offset', 'minutesBefore must be a positive whole number.', {
      field: 'minutesBefore',
    });
  }
}

function buildVars(kind: NotificationKind, ctx: MessageContext, fmt: Formatter): TemplateVars {
  const start = parseInstant(ctx.start, 'start');
  const end = parseInstant(ctx.end, 'end');
  // Only what the kind is about: a payment amount left in the context must not appear in a reminder.
  const previous =
    kind === 'reservation-rescheduled' && ctx.previousStart !== undefined
      ? parseInstant(ctx.previousStart, 'previousStart')
      : undefined;
  const expires =
    kind === 'waitlist-offer' && ctx.offer !== undefined
      ? parseInstant(ctx.offer.expiresAt, 'offer.expiresAt')
      : undefined;
  const showAmount = kind === 'payment-received' && ctx.amount !== undefined && ctx.currency !== undefined;
  return {
    id: oneLine(ctx.reservationId),
    code: oneLine(ctx.code ?? ctx.reservationId),
    customer: oneLine(ctx.customerName),
    service: oneLine(ctx.serviceName),
    location: oneLine(ctx.locationName),
    sender: oneLine(ctx.senderName),
    when: fmt.range(start, end),
    whenShort: fmt.short(start),
    whenCompact: fmt.compact(start),
    ...(previous ? { previous: fmt.short(previous), previousShort: fmt.short(previous) } : {}),
    ...(showAmount ? { amount: fmt.money(ctx.amount ?? 0, ctx.currency ?? '') } : {}),
    ...(expires ? { expires: fmt.short(expires), expiresShort: fmt.short(expires) } : {}),
    ...(kind === 'reservation-reminder' && ctx.minutesBefore !== undefined
      ? { inAdvance: fmt.inAdvance(ctx.minutesBefore) }
      : {}),
    ...(kind === 'reservation-cancelled' && ctx.cancelledBy ? { cancelledBy: ctx.cancelledBy } : {}),
    ...(kind === 'staff-alert' && ctx.alert ? { alert: oneLine(ctx.alert.message) } : {}),
    ...(kind === 'staff-alert' && ctx.alert?.slot ? { slot: true } : {}),
    ...(kind === 'waitlist-joined' && ctx.position !== undefined ? { position: String(ctx.position) } : {}),
    ...(kind === 'waitlist-offer' && ctx.claimUrl ? { claimUrl: ctx.claimUrl } : {}),
  };
}

const DESCRIPTION_KINDS: ReadonlySet<NotificationKind> = new Set([
  'reservation-confirmed',
  'reservation-rescheduled',
  'reservation-reminder',
  'waitlist-offer',
  'waitlist-seat-assigned',
]);

function showsAfterPaymentText(kind: NotificationKind, ctx: MessageContext): boolean {
  return kind === 'payment-received' || (kind === 'reservation-confirmed' && ctx.paid === true);
}

interface EmailModel {
  readonly lang: Language;
  readonly subject: string;
  readonly greeting: string;
  readonly intro: string;
  readonly rows: readonly (readonly [label: string, value: string])[];
  readonly paragraphs: readonly string[];
  readonly signOff: string;
  readonly sender: string;
  readonly footer?: string;
  /** A call to action: a link the reader opens (a waitlist offer's claim page). */
  readonly action?: { readonly label: string; readonly url: string };
  /** The customer's own page. */
  readonly page?: { readonly label: string; readonly url: string };
}

function emailModel(kind: NotificationKind, ctx: MessageContext, audience: Audience): EmailModel {
  validateContext(kind, ctx);
  const fmt = formatterFor(ctx);
  const catalogue = CATALOGUES[fmt.language];
  const texts = catalogue.kinds[kind];
  const v = buildVars(kind, ctx, fmt);
  const { labels } = catalogue;
  const toStaff = audience === 'staff' || kind === 'staff-alert';
  const where = ctx.locationAddress ? `${v.location}, ${oneLine(ctx.locationAddress)}` : v.location;
  const rows: (readonly [string, string])[] = [];
  if (toStaff && !v.slot) rows.push([labels.customer, v.customer]);
  rows.push([labels.service, v.service], [labels.when, v.when]);
  if (v.previous) rows.push([labels.previous, v.previous]);
  rows.push([labels.where, where]);
  if (v.amount) rows.push([labels.amount, v.amount]);
  if (v.expires) rows.push([labels.offerExpires, v.expires]);
  if (v.position && !toStaff) rows.push([labels.position, v.position]);
  if (ctx.reason && (kind === 'reservation-cancelled' || kind === 'reservation-declined')) {
    rows.push([labels.reason, oneLine(ctx.reason)]);
  }
  if (!v.slot) rows.push([labels.reservation, v.code]);

  const paragraphs: string[] = [];
  if (!toStaff && ctx.serviceDescription?.trim() && DESCRIPTION_KINDS.has(kind))
    paragraphs.push(paragraph(ctx.serviceDescription));
  if (!toStaff && ctx.afterPaymentText?.trim() && showsAfterPaymentText(kind, ctx))
    paragraphs.push(paragraph(ctx.afterPaymentText));

  const intro =
    kind === 'staff-alert' ? (v.alert ?? '') : toStaff ? `${texts.title(v)}: ${v.customer}.` : texts.intro(v);
  return {
    lang: fmt.language,
    subject: oneLine(
      toStaff && kind !== 'staff-alert' ? `${texts.title(v)}: ${v.customer}, ${v.whenShort}` : texts.subject(v),
    ),
    greeting: toStaff ? catalogue.staffGreeting : catalogue.greeting(v.customer),
    intro,
    rows,
    paragraphs,
    signOff: catalogue.signOff,
    sender: v.sender,
    ...(!toStaff && ctx.footer?.trim() ? { footer: paragraph(ctx.footer) } : {}),
    ...(!toStaff && v.claimUrl ? { action: { label: labels.claim, url: v.claimUrl } } : {}),
    ...(!toStaff && pageUrlOf(ctx) ? { page: { label: labels.yourPage, url: pageUrlOf(ctx)! } } : {}),
  };
}

/** The customer's page link, when it is a plain http(s) URL (it goes into text, HTML and SMS as is). */
function pageUrlOf(ctx: MessageContext): string | undefined {
  return ctx.pageUrl && /^https?:\/\/[!#-~]+$/.test(ctx.pageUrl) ? ctx.pageUrl : undefined;
}

function emailText(model: EmailModel): string {
  const blocks = [
    model.greeting,
    model.intro,
    model.rows.map(([label, value]) => `${label}: ${value}`).join('\n'),
    ...(model.action ? [`${model.action.label}:\n${model.action.url}`] : []),
    ...model.paragraphs,
    ...(model.page ? [`${model.page.label}:\n${model.page.url}`] : []),
    `${model.signOff}\n${model.sender}`,
  ];
  // "-- " is the conventional signature separator, so mail clients can fold the footer away.
  const body = blocks.join('\n\n');
  return (model.footer ? `${body}\n\n-- \n${model.footer}` : body).replace(/\r\n?/g, '\n') + '\n';
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function htmlParagraph(text: string, style = ''): string {
  const attr = style ? ` style="${style}"` : '';
  return `<p${attr}>${escapeHtml(text).replace(/\r\n|\r|\n/g, '<br>\n')}</p>`;
}

function emailHtml(model: EmailModel): string {
  const rows = model.rows
    .map(
      ([label, value]) =>
        `<tr><th align="left" valign="top" style="padding:2px 12px 2px 0">${escapeHtml(label)}</th>` +
        `<td style="padding:2px 0">${escapeHtml(value)}</td></tr>`,
    )
    .join('\n');
  return [
    '<!DOCTYPE html>',
    `<html lang="${model.lang}">`,
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(model.subject)}</title></head>`,
    '<body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#222">',
    htmlParagraph(model.greeting),
    htmlParagraph(model.intro),
    `<table role="presentation" cellspacing="0" cellpadding="0">\n${rows}\n</table>`,
    ...(model.action
      ? [
          `<p><a href="${escapeHtml(model.action.url)}" style="display:inline-block;padding:10px 18px;background:#1a5fb4;` +
            `color:#fff;text-decoration:none;border-radius:4px">${escapeHtml(model.action.label)}</a></p>`,
        ]
      : []),
    ...model.paragraphs.map((p) => htmlParagraph(p)),
    ...(model.page
      ? [`<p><a href="${escapeHtml(model.page.url)}" style="color:#1a5fb4">${escapeHtml(model.page.label)}</a></p>`]
      : []),
    htmlParagraph(`${model.signOff}\n${model.sender}`),
    ...(model.footer ? ['<hr>', htmlParagraph(model.footer, 'color:#666;font-size:13px')] : []),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

export function renderEmail(
  kind: NotificationKind,
  ctx: MessageContext,
  audience: Audience = 'customer',
): RenderedEmail {
  const model = emailModel(kind, ctx, audience);
  return {
    channel: 'email',
    language: model.lang,
    subject: model.subject,
    text: emailText(model),
    html: emailHtml(model),
  };
}

/**
 * Typography Intl and people like (dashes, curly quotes, ellipsis) is outside GSM-7 and would turn an otherwise
 * plain SMS into UCS-2 at less than half the capacity. Letters with diacritics are left alone: they are content.
 */
function gsmFriendlyPunctuation(text: string): string {
  return text
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/[\u2018\u2019\u201a\u2032]/g, "'")
    .replace(/[\u201c\u201d\u201e\u2033]/g, '"')
    .replace(/\u2026/g, '...');
}

export function renderSms(kind: NotificationKind, ctx: MessageContext, audience: Audience = 'customer'): RenderedSms {
  validateContext(kind, ctx);
  const fmt = formatterFor(ctx);
  const catalogue = CATALOGUES[fmt.language];
  const texts = catalogue.kinds[kind];
  const v = buildVars(kind, ctx, fmt);
  const lines =
    audience === 'staff' && kind !== 'staff-alert'
      ? [
          `${v.sender}: ${texts.title(v)} - ${v.customer}, ${v.service}, ${v.whenShort}, ${v.location}. ${catalogue.labels.reservation} ${v.code}.`,
        ]
      : [texts.sms(v), ...(texts.smsCompact?.(v) ?? [])];
  const page = audience === 'customer' && kind !== 'waitlist-offer' ? pageUrlOf(ctx) : undefined;
  // The fullest wording that takes the fewest parts: a compact variant only when it saves a part (and credits).
  const fewestParts = (candidates: readonly string[]) => {
    let best: { text: string; sms: SmsAnalysis } | undefined;
    for (const text of candidates) {
      const sms = analyzeSms(text);
      if (!best || sms.parts < best.sms.parts) best = { text, sms };
    }
    return best ?? { text: '', sms: analyzeSms('') };
  };
  const wordings = lines.map((line) => oneLine(gsmFriendlyPunctuation(plainSpaces(line))));
  const without = fewestParts(wordings);
  // The link to the customer's own page rides along only when it costs no extra part and no words (every email
  // carries it): a Czech confirmation stays one SMS, one credit.
  const withPage = page ? fewestParts([`${without.text} ${page}`]) : undefined;
  const chosen = withPage && withPage.sms.parts <= without.sms.parts ? withPage : without;
  return { channel: 'sms', language: fmt.language, text: chosen.text, sms: chosen.sms };
}

export function renderMessage(
  kind: NotificationKind,
  channel: 'email',
  ctx: MessageContext,
  audience?: Audience,
): RenderedEmail;
export function renderMessage(
  kind: NotificationKind,
  channel: 'sms',
  ctx: MessageContext,
  audience?: Audience,
): RenderedSms;
export function renderMessage(
  kind: NotificationKind,
  channel: Channel,
  ctx: MessageContext,
  audience?: Audience,
): RenderedMessage;
export function renderMessage(
  kind: NotificationKind,
  channel: Channel,
  ctx: MessageContext,
  audience: Audience = 'customer',
): RenderedMessage {
  return channel === 'email' ? renderEmail(kind, ctx, audience) : renderSms(kind, ctx, audience);
}

// ---------------------------------------------------------------------------------------------------------------
// Tenant custom texts with {{field}} placeholders.

type FieldValue = (ctx: MessageContext, fmt: Formatter) => string | undefined;

const COMMON_FIELDS: Readonly<Record<string, FieldValue>> = {
  reservationId: (ctx) => ctx.reservationId,
  reservationCode: (ctx) => ctx.code ?? ctx.reservationId,
  customerName: (ctx) => ctx.customerName,
  serviceName: (ctx) => ctx.serviceName,
  serviceDescription: (ctx) => ctx.serviceDescription,
  locationName: (ctx) => ctx.locationName,
  locationAddress: (ctx) => ctx.locationAddress,
  start: (ctx, fmt) => fmt.short(parseInstant(ctx.start, 'start')),
  end: (ctx, fmt) => fmt.short(parseInstant(ctx.end, 'end')),
  date: (ctx, fmt) => fmt.date(parseInstant(ctx.start, 'start')),
  time: (ctx, fmt) => fmt.time(parseInstant(ctx.start, 'start')),
  timeZone: (ctx) => ctx.timeZone,
  senderName: (ctx) => ctx.senderName,
};

const KIND_FIELDS: Readonly<Record<NotificationKind, Readonly<Record<string, FieldValue>>>> = {
  'reservation-confirmed': { afterPaymentText: (ctx) => (ctx.paid ? ctx.afterPaymentText : undefined) },
  'reservation-cancelled': { reason: (ctx) => ctx.reason },
  'reservation-declined': { reason: (ctx) => ctx.reason },
  'reservation-rescheduled': {
    previousStart: (ctx, fmt) =>
      ctx.previousStart ? fmt.short(parseInstant(ctx.previousStart, 'previousStart')) : undefined,
  },
  'payment-received': {
    amount: (ctx, fmt) => (ctx.amount !== undefined && ctx.currency ? fmt.money(ctx.amount, ctx.currency) : undefined),
    afterPaymentText: (ctx) => ctx.afterPaymentText,
  },
  'reservation-reminder': {
    minutesBefore: (ctx) => (ctx.minutesBefore !== undefined ? String(ctx.minutesBefore) : undefined),
  },
  'waitlist-offer': {
    offerExpiresAt: (ctx, fmt) =>
      ctx.offer ? fmt.short(parseInstant(ctx.offer.expiresAt, 'offer.expiresAt')) : undefined,
    claimUrl: (ctx) => ctx.claimUrl,
  },
  'waitlist-seat-assigned': {},
  'staff-alert': { alertMessage: (ctx) => ctx.alert?.message },
  'waitlist-joined': { position: (ctx) => (ctx.position !== undefined ? String(ctx.position) : undefined) },
  'waitlist-offer-expired': {},
  'custom-message': {},
};

/** The placeholders a custom text for `kind` may use. */
export function customTemplateFields(kind: NotificationKind): readonly string[] {
  return [...Object.keys(COMMON_FIELDS), ...Object.keys(KIND_FIELDS[kind])];
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

function fieldResolver(kind: NotificationKind, field: string): FieldValue | undefined {
  return Object.hasOwn(COMMON_FIELDS, field)
    ? COMMON_FIELDS[field]
    : Object.hasOwn(KIND_FIELDS[kind], field)
      ? KIND_FIELDS[kind][field]
      : undefined;
}

/**
 * Checks a tenant's custom text before it is stored: every `{{field}}` must be known for the kind, braces must
 * pair up. Returns the fields used, in order of first use.
 */
export function validateCustomTemplate(text: string, kind: NotificationKind): { readonly fields: readonly string[] } {
  if (!NOTIFICATION_KINDS.includes(kind)) {
    throw new ValidationError('unknown-notification-kind', `Unknown notification kind ${String(kind)}.`, {
      field: 'kind',
    });
  }
  if (text.trim() === '')
    throw new ValidationError('empty-template', 'A custom text must not be empty.', { field: 'text' });
  const fields: string[] = [];
  for (const match of text.matchAll(PLACEHOLDER)) {
    const field = match[1] ?? '';
    if (!FIELD_NAME.test(field)) {
      throw new ValidationError('malformed-template', `"${match[0]}" is not a valid placeholder.`, {
        placeholder: match[0],
      });
    }
    if (fieldResolver(kind, field) === undefined) {
      throw new ValidationError('unknown-template-field', `Unknown field "${field}" in the ${kind} template.`, {
        field,
        kind,
        allowed: customTemplateFields(kind),
      });
    }
    if (!fields.includes(field)) fields.push(field);
  }
  const rest = text.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) {
    throw new ValidationError('malformed-template', 'Unbalanced "{{" or "}}" in the template.', { field: 'text' });
  }
  return { fields };
}

/**
 * Fills a custom text (validated first). Fields without a value in this context render as empty text. `as` says
 * where the text goes: a `line` (an email subject) gets every value, and the result, on one neutral line; `multiline`
 * text (an email or SMS body) keeps line breaks but loses control and bidi characters — in the values and in a
 * template recorded before such characters were refused (shared/text.ts).
 */
export function renderCustomTemplate(
  text: string,
  kind: NotificationKind,
  ctx: MessageContext,
  as: TextKind = 'multiline',
): string {
  validateCustomTemplate(text, kind);
  const fmt = formatterFor(ctx);
  const filled = text.replace(PLACEHOLDER, (_whole, field: string) => {
    const value = fieldResolver(kind, field)?.(ctx, fmt) ?? '';
    return as === 'line' ? oneLine(value) : neutraliseText(value, 'multiline');
  });
  return as === 'line' ? oneLine(filled) : neutraliseText(filled, 'multiline');
}

/**
 * The staff alert of a waitlist that nobody on it took (seed 003: "if no waitlist response"): in the staff's language.
 */
export function waitlistExhaustedAlert(locale: string, seats: number, waiting: number): string {
  switch (resolveLanguage(locale)) {
    case 'cs':
      return (
        `Nikdo z čekací listiny volné místo nepřijal (volných míst: ${seats}, stále čeká: ${waiting}). ` +
        'Místo je opět volně k rezervaci.'
      );
    case 'nb':
      return (
        `Ingen på ventelisten tok den ledige plassen (ledige plasser: ${seats}, venter fortsatt: ${waiting}). ` +
        'Plassen kan nå bestilles av alle igjen.'
      );
    default:
      return (
        `Nobody on the waitlist took the free place (free seats: ${seats}, still waiting: ${waiting}). ` +
        'It is open to everyone again.'
      );
  }
}

/**
 * The staff alert of a booking that a linked external calendar now shows busy (issue 12), in the staff's language.
 * The reservation itself (customer, time) is in the alert's standard body; this says what collides and that nothing
 * was changed.
 */
export function calendarConflictAlert(
  locale: string,
  conflict: {
    readonly calendarName: string;
    readonly busyStart: string;
    readonly busyEnd: string;
    readonly timeZone: string;
  },
): string {
  const language = resolveLanguage(locale);
  const format = new Intl.DateTimeFormat(language === 'cs' ? 'cs-CZ' : language === 'nb' ? 'nb-NO' : 'en-GB', {
    timeZone: conflict.timeZone,
    dateStyle: 'medium',
    timeStyle: 'short',
  });
  const from = format.format(new Date(conflict.busyStart));
  const until = format.format(new Date(conflict.busyEnd));
  const calendar = oneLine(conflict.calendarName);
  switch (language) {
    case 'cs':
      return (
        `Propojený kalendář „${calendar}“ ukazuje obsazeno od ${from} do ${until}, v době rezervace. ` +
        'Rezervace nebyla změněna: rozhodněte, zda ji přesunout nebo zrušit.'
      );
    case 'nb':
      return (
        `Den tilknyttede kalenderen «${calendar}» viser opptatt fra ${from} til ${until}, i tidsrommet for en bestilling. ` +
        'Bestillingen er ikke endret: avgjør om den skal flyttes eller avlyses.'
      );
    default:
      return (
        `The linked calendar "${calendar}" shows busy from ${from} to ${until}, during a booked reservation. ` +
        'The reservation was not changed: decide whether to move or cancel it.'
      );
  }
}

/**
 * The staff alert of a credit balance that fell below the tenant's threshold, in the staff's language: a subject
 * and one paragraph (also the SMS text).
 */
/** Staff alert: a webhook endpoint was paused by Herald (it kept failing, or answered 410 Gone). */
export function webhookPausedAlert(
  locale: string,
  description: string,
  reason: 'failing' | 'gone',
  undelivered: number,
): { readonly subject: string; readonly text: string } {
  switch (resolveLanguage(locale)) {
    case 'cs':
      return {
        subject: `Webhook pozastaven: ${description}`,
        text:
          (reason === 'gone'
            ? `Webhook „${description}“ odpověděl 410 Gone a byl pozastaven. `
            : `Webhook „${description}“ dlouhodobě selhává a byl pozastaven. `) +
          `Nedoručených událostí: ${undelivered}. Po opravě ho obnovte; doručování pokračuje od první nedoručené.`,
      };
    case 'nb':
      return {
        subject: `Webhook satt på pause: ${description}`,
        text:
          (reason === 'gone'
            ? `Webhooken «${description}» svarte 410 Gone og er satt på pause. `
            : `Webhooken «${description}» har feilet lenge og er satt på pause. `) +
          `Ikke levert: ${undelivered}. Gjenoppta den når den er rettet; leveringen fortsetter fra den første som ikke er levert.`,
      };
    default:
      return {
        subject: `Webhook paused: ${description}`,
        text:
          (reason === 'gone'
            ? `The webhook endpoint "${description}" answered 410 Gone and was paused. `
            : `The webhook endpoint "${description}" kept failing and was paused. `) +
          `Undelivered events: ${undelivered}. Resume it once it is fixed; delivery continues from the first undelivered event.`,
      };
  }
}

export function lowCreditsAlert(
  locale: string,
  balance: number,
  threshold: number,
): { readonly subject: string; readonly text: string } {
  switch (resolveLanguage(locale)) {
    case 'cs':
      return {
        subject: `Docházejí kredity: zbývá ${balance}`,
        text:
          `Zůstatek kreditů klesl pod ${threshold}: zbývá ${balance}. ` +
          'Zprávy, které stojí kredity (SMS, ručně a hromadně posílané e-maily), se po vyčerpání přestanou odesílat. Dobijte kredity.',
      };
    case 'nb':
      return {
        subject: `Lite kreditt igjen: ${balance}`,
        text:
          `Kredittsaldoen er under ${threshold}: ${balance} igjen. ` +
          'Meldinger som koster kreditt (SMS, manuelle og masseutsendte e-poster) stopper når den er tom. Fyll på kreditt.',
      };
    default:
      return {
        subject: `Credits running low: ${balance} left`,
        text:
          `The credit balance fell below ${threshold}: ${balance} left. ` +
          'Messages that cost credits (SMS, hand-sent and bulk emails) stop when it runs out. Top up credits.',
      };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Messages staff write (manual and bulk): free text with {{placeholders}}.

/** What the placeholders of a staff-written message are filled from: the recipient and, if any, the reservation. */
export interface StaffMessageContext {
  readonly customerName: string;
  readonly senderName: string;
  /** BCP 47 tag of the recipient: dates and times in their format. */
  readonly locale: string;
  /** IANA zone times are shown in: the reservation's location, else the tenant's. */
  readonly timeZone: string;
  readonly reservation?: {
    readonly reservationId: string;
    readonly code?: string;
    readonly serviceName: string;
    readonly locationName: string;
    readonly locationAddress?: string;
    readonly start: string;
    readonly end: string;
  };
}

type StaffFieldValue = (ctx: StaffMessageContext, fmt: Formatter) => string | undefined;

const STAFF_MESSAGE_FIELDS: Readonly<Record<string, StaffFieldValue>> = {
  customerName: (ctx) => ctx.customerName,
  senderName: (ctx) => ctx.senderName,
  reservationCode: (ctx) => (ctx.reservation ? (ctx.reservation.code ?? ctx.reservation.reservationId) : undefined),
  reservationId: (ctx) => ctx.reservation?.reservationId,
  serviceName: (ctx) => ctx.reservation?.serviceName,
  locationName: (ctx) => ctx.reservation?.locationName,
  locationAddress: (ctx) => ctx.reservation?.locationAddress,
  start: (ctx, fmt) => (ctx.reservation ? fmt.short(parseInstant(ctx.reservation.start, 'start')) : undefined),
  end: (ctx, fmt) => (ctx.reservation ? fmt.short(parseInstant(ctx.reservation.end, 'end')) : undefined),
  date: (ctx, fmt) => (ctx.reservation ? fmt.date(parseInstant(ctx.reservation.start, 'start')) : undefined),
  time: (ctx, fmt) => (ctx.reservation ? fmt.time(parseInstant(ctx.reservation.start, 'start')) : undefined),
};

/** The placeholders a staff-written message may use (reservation fields are empty for a message about none). */
export const STAFF_MESSAGE_PLACEHOLDERS: readonly string[] = Object.keys(STAFF_MESSAGE_FIELDS);

/** Checks a staff-written text: every `{{field}}` known, braces paired. `field` names it in the error. */
export function validateStaffMessageText(text: string, field: string): { readonly fields: readonly string[] } {
  if (text.trim() === '') throw new ValidationError('empty-template', `${field} must not be empty.`, { field });
  const fields: string[] = [];
  for (const match of text.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? '';
    if (!FIELD_NAME.test(name)) {
      throw new ValidationError('malformed-template', `"${match[0]}" is not a valid placeholder.`, { field });
    }
    if (!Object.hasOwn(STAFF_MESSAGE_FIELDS, name)) {
      throw new ValidationError('unknown-template-field', `Unknown field "${name}" in ${field}.`, {
        field,
        allowed: STAFF_MESSAGE_PLACEHOLDERS,
      });
    }
    if (!fields.includes(name)) fields.push(name);
  }
  const rest = text.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) {
    throw new ValidationError('malformed-template', `Unbalanced "{{" or "}}" in ${field}.`, { field });
  }
  return { fields };
}

/** Fills a staff-written text (validated first); `line` for a subject, `multiline` for a body (see renderCustomTemplate). */
export function renderStaffMessage(text: string, ctx: StaffMessageContext, as: TextKind = 'multiline'): string {
  validateStaffMessageText(text, as === 'line' ? 'subject' : 'text');
  const fmt = formatterFor(ctx);
  const filled = text.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = STAFF_MESSAGE_FIELDS[name]?.(ctx, fmt) ?? '';
    return as === 'line' ? oneLine(value) : neutraliseText(value, 'multiline');
  });
  return as === 'line' ? oneLine(filled) : neutraliseText(filled, 'multiline').trim();
}

/** A staff-written SMS: one line of GSM-friendly text where the content allows, with its parts. */
export function staffSms(text: string, ctx: StaffMessageContext): { readonly text: string; readonly sms: SmsAnalysis } {
  const rendered = gsmFriendlyPunctuation(plainSpaces(renderStaffMessage(text, ctx)));
  return { text: rendered, sms: analyzeSms(rendered) };
}

/** A staff-written email: the filled subject and text, the tenant's footer, and the same as simple HTML. */
export function staffEmail(
  message: { readonly subject: string; readonly text: string },
  ctx: StaffMessageContext,
  footer?: string,
): { readonly subject: string; readonly text: string; readonly html: string } {
  const subject = renderStaffMessage(message.subject, ctx, 'line');
  const body = renderStaffMessage(message.text, ctx);
  const foot = footer?.trim() ? paragraph(footer) : undefined;
  const text = `${foot ? `${body}\n\n-- \n${foot}` : body}\n`;
  const language = resolveLanguage(ctx.locale);
  const html = [
    '<!DOCTYPE html>',
    `<html lang="${language}">`,
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(subject)}</title></head>`,
    '<body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#222">',
    ...body.split(/\n{2,}/).map((p) => htmlParagraph(p)),
    ...(foot ? ['<hr>', htmlParagraph(foot, 'color:#666;font-size:13px')] : []),
    '</body>',
    '</html>',
    '',
  ].join('\n');
  return { subject, text, html };
}

// ---------------------------------------------------------------------------------------------------------------
// The reservation document (PDF with the reservation's code): its texts, laid out by the document adapter.

/** What the reservation's PDF shows; recorded in the delivery, so a re-send renders the same document. */
export interface ReservationDocumentData {
  readonly reservationId: string;
  /** The short code, also in the QR code; the id when the reservation has none. */
  readonly code: string;
  readonly customerName: string;
  readonly serviceName: string;
  readonly locationName: string;
  readonly locationAddress?: string;
  readonly start: string;
  readonly end: string;
  readonly timeZone: string;
  /** The customer's language and formats. */
  readonly locale: string;
  readonly partySize: number;
  readonly senderName: string;
  /** The instant the document is dated (the PDF's creation date): fixed, so the bytes are too. */
  readonly issuedAt: string;
}

const DOCUMENT_TEXTS: Readonly<Record<Language, { title: string; partySize: string; note: string }>> = {
  en: { title: 'Reservation', partySize: 'Party size', note: 'Show this code or the QR code when you arrive.' },
  cs: { title: 'Rezervace', partySize: 'Počet osob', note: 'Při příchodu ukažte tento kód nebo QR kód.' },
  nb: { title: 'Reservasjon', partySize: 'Antall personer', note: 'Vis denne koden eller QR-koden når du kommer.' },
};

/** The texts of the reservation document in the customer's language: title, code, detail rows, a note. */
export function reservationDocumentText(data: ReservationDocumentData): {
  readonly language: Language;
  readonly title: string;
  readonly code: string;
  readonly rows: readonly (readonly [label: string, value: string])[];
  readonly note: string;
  readonly sender: string;
} {
  const fmt = formatterFor(data);
  const catalogue = CATALOGUES[fmt.language];
  const texts = DOCUMENT_TEXTS[fmt.language];
  const where = data.locationAddress
    ? `${oneLine(data.locationName)}, ${oneLine(data.locationAddress)}`
    : oneLine(data.locationName);
  return {
    language: fmt.language,
    title: texts.title,
    code: oneLine(data.code),
    rows: [
      [catalogue.labels.customer, oneLine(data.customerName)],
      [catalogue.labels.service, oneLine(data.serviceName)],
      [catalogue.labels.when, fmt.range(parseInstant(data.start, 'start'), parseInstant(data.end, 'end'))],
      [catalogue.labels.where, where],
      [texts.partySize, String(data.partySize)],
      [catalogue.labels.reservation, oneLine(data.code)],
    ],
    note: texts.note,
    sender: oneLine(data.senderName),
  };
}
