/**
 * The customer's own page (/my/<token>, the signed link in every message): their reservation or waitlist place,
 * its messages, cancelling and moving within the tenant's rules, the calendar file, their message preferences,
 * and a waitlist offer to take or let go. The token goes to the API in X-Customer-Token, never in a URL it calls.
 */
import { apiClient, customerToken, problemText, type Schemas } from '../lib/api.js';
import { dateKey, dateTime, day, isoDate, languageOf, startOfDate, time, type Language } from '../lib/format.js';
import { CHANNEL_NAMES, kindName } from '../lib/kinds.js';
import { LanguagePicker } from '../lib/language-picker.js';
import { html, mount, useEffect, useState } from '../lib/ui.js';

type View = Schemas['CustomerOwnPage'];
type Slot = Schemas['Availability']['slots'][number];

const T = {
  en: {
    title: 'Your booking',
    waitlistTitle: 'Your place on the waitlist',
    status: {
      requested: 'Waiting for confirmation',
      confirmed: 'Confirmed',
      cancelled: 'Cancelled',
      declined: 'Declined',
      deleted: 'Cancelled',
      'not-taken': 'Not attended',
      completed: 'Completed',
      expired: 'Expired',
    } as Record<string, string>,
    entryStatus: {
      waiting: 'Waiting',
      offered: 'A place is offered to you',
      accepted: 'You took the place',
      booked: 'The place is yours',
      assigned: 'You got the place',
      left: 'You left the waitlist',
      removed: 'Removed from the waitlist',
      expired: 'The waitlist has closed',
    } as Record<string, string>,
    code: 'Reservation code',
    when: 'When',
    where: 'Where',
    party: 'People',
    position: 'Place in line',
    offerOpen: (until: string) => `A place is free for you. It is held for you until ${until}.`,
    take: 'Take the place',
    letGo: 'Let it go',
    cancel: 'Cancel the booking',
    cancelUntil: (until: string) => `You can cancel here until ${until}.`,
    cancelSure: 'Do you really want to cancel? The place goes to the next person waiting.',
    cancelYes: 'Yes, cancel it',
    keep: 'No, keep it',
    cancelled: 'Your booking is cancelled.',
    move: 'Move to another time',
    moveUntil: (until: string) => `You can move it here until ${until}.`,
    showTimes: 'Show times',
    from: 'From',
    to: 'To',
    noTimes: 'No free times in these days.',
    moveTo: (when: string) => `Move to ${when}`,
    moved: 'Your booking is moved.',
    noSelfService: 'To change this booking, please contact us.',
    calendar: 'Add to calendar (.ics)',
    messages: 'Messages we sent you',
    noMessages: 'No messages yet.',
    msgStatus: {
      requested: 'Being sent',
      sent: 'Sent',
      delivered: 'Delivered',
      failed: 'Not delivered',
      'dead-lettered': 'Not delivered',
      skipped: 'Not sent',
      retrying: 'Being sent',
    } as Record<string, string>,
    telegram: 'Messages in Telegram',
    telegramLead: 'Open the link in Telegram and press Start: we will send your messages to that chat.',
    telegramLink: 'Get messages in Telegram',
    telegramLinked: 'Your Telegram chat is linked.',
    preferences: 'Which messages you get',
    preferencesLead: 'Untick what you do not want. Messages about a place offered to you always follow your choice.',
    kind: 'Message',
    noSms: 'No SMS at all',
    save: 'Save my choices',
    saved: 'Your choices are saved.',
    invalid: 'This link does not work',
    invalidLead: 'The link is not valid or has run out. Please use the link in the newest message we sent you.',
    failed: 'Something went wrong. Please try again.',
    loading: 'Loading…',
    back: 'Back',
  },
  cs: {
    title: 'Vaše rezervace',
    waitlistTitle: 'Vaše místo v pořadníku',
    status: {
      requested: 'Čeká na potvrzení',
      confirmed: 'Potvrzeno',
      cancelled: 'Zrušeno',
      declined: 'Odmítnuto',
      deleted: 'Zrušeno',
      'not-taken': 'Nedostavil(a) se',
      completed: 'Proběhlo',
      expired: 'Propadlo',
    } as Record<string, string>,
    entryStatus: {
      waiting: 'Čekáte',
      offered: 'Nabízíme vám místo',
      accepted: 'Místo jste přijali',
      booked: 'Místo je vaše',
      assigned: 'Místo vám bylo přiděleno',
      left: 'Z pořadníku jste odešli',
      removed: 'Odebráno z pořadníku',
      expired: 'Pořadník je uzavřen',
    } as Record<string, string>,
    code: 'Kód rezervace',
    when: 'Kdy',
    where: 'Kde',
    party: 'Osob',
    position: 'Pořadí',
    offerOpen: (until: string) => `Uvolnilo se pro vás místo. Držíme vám ho do ${until}.`,
    take: 'Přijmout místo',
    letGo: 'Přenechat dalším',
    cancel: 'Zrušit rezervaci',
    cancelUntil: (until: string) => `Zde můžete zrušit do ${until}.`,
    cancelSure: 'Opravdu chcete rezervaci zrušit? Místo dostane další čekající.',
    cancelYes: 'Ano, zrušit',
    keep: 'Ne, ponechat',
    cancelled: 'Vaše rezervace je zrušena.',
    move: 'Přesunout na jiný termín',
    moveUntil: (until: string) => `Zde můžete přesunout do ${until}.`,
    showTimes: 'Zobrazit termíny',
    from: 'Od',
    to: 'Do',
    noTimes: 'V těchto dnech nejsou volné termíny.',
    moveTo: (when: string) => `Přesunout na ${when}`,
    moved: 'Rezervace je přesunuta.',
    noSelfService: 'Chcete-li rezervaci změnit, kontaktujte nás prosím.',
    calendar: 'Přidat do kalendáře (.ics)',
    messages: 'Zprávy, které jsme vám poslali',
    noMessages: 'Zatím žádné zprávy.',
    msgStatus: {
      requested: 'Odesílá se',
      sent: 'Odesláno',
      delivered: 'Doručeno',
      failed: 'Nedoručeno',
      'dead-lettered': 'Nedoručeno',
      skipped: 'Neodesláno',
      retrying: 'Odesílá se',
    } as Record<string, string>,
    telegram: 'Zprávy v Telegramu',
    telegramLead: 'Otevřete odkaz v Telegramu a stiskněte Start: zprávy vám pak pošleme do tohoto chatu.',
    telegramLink: 'Dostávat zprávy v Telegramu',
    telegramLinked: 'Váš chat v Telegramu je propojen.',
    preferences: 'Jaké zprávy dostáváte',
    preferencesLead: 'Odškrtněte, co nechcete dostávat.',
    kind: 'Zpráva',
    noSms: 'Žádné SMS',
    save: 'Uložit nastavení',
    saved: 'Nastavení je uloženo.',
    invalid: 'Tento odkaz nefunguje',
    invalidLead: 'Odkaz není platný nebo vypršel. Použijte prosím odkaz z nejnovější zprávy, kterou jsme vám poslali.',
    failed: 'Něco se nepovedlo. Zkuste to prosím znovu.',
    loading: 'Načítání…',
    back: 'Zpět',
  },
  nb: {
    title: 'Din bestilling',
    waitlistTitle: 'Din plass på ventelisten',
    status: {
      requested: 'Venter på bekreftelse',
      confirmed: 'Bekreftet',
      cancelled: 'Avbestilt',
      declined: 'Avslått',
      deleted: 'Avbestilt',
      'not-taken': 'Ikke møtt',
      completed: 'Fullført',
      expired: 'Utløpt',
    } as Record<string, string>,
    entryStatus: {
      waiting: 'Venter',
      offered: 'Du er tilbudt en plass',
      accepted: 'Du tok plassen',
      booked: 'Plassen er din',
      assigned: 'Du fikk plassen',
      left: 'Du forlot ventelisten',
      removed: 'Fjernet fra ventelisten',
      expired: 'Ventelisten er stengt',
    } as Record<string, string>,
    code: 'Bestillingskode',
    when: 'Når',
    where: 'Hvor',
    party: 'Personer',
    position: 'Plass i køen',
    offerOpen: (until: string) => `En plass er ledig for deg. Den holdes av til ${until}.`,
    take: 'Ta plassen',
    letGo: 'Si fra meg plassen',
    cancel: 'Avbestill',
    cancelUntil: (until: string) => `Du kan avbestille her til ${until}.`,
    cancelSure: 'Vil du virkelig avbestille? Plassen går til neste på ventelisten.',
    cancelYes: 'Ja, avbestill',
    keep: 'Nei, behold',
    cancelled: 'Bestillingen er avbestilt.',
    move: 'Flytt til en annen tid',
    moveUntil: (until: string) => `Du kan flytte den her til ${until}.`,
    showTimes: 'Vis tider',
    from: 'Fra',
    to: 'Til',
    noTimes: 'Ingen ledige tider disse dagene.',
    moveTo: (when: string) => `Flytt til ${when}`,
    moved: 'Bestillingen er flyttet.',
    noSelfService: 'Ta kontakt med oss for å endre denne bestillingen.',
    calendar: 'Legg i kalenderen (.ics)',
    messages: 'Meldinger vi har sendt deg',
    noMessages: 'Ingen meldinger ennå.',
    msgStatus: {
      requested: 'Sendes',
      sent: 'Sendt',
      delivered: 'Levert',
      failed: 'Ikke levert',
      'dead-lettered': 'Ikke levert',
      skipped: 'Ikke sendt',
      retrying: 'Sendes',
    } as Record<string, string>,
    telegram: 'Meldinger i Telegram',
    telegramLead: 'Åpne lenken i Telegram og trykk Start: da sender vi meldingene dine til den chatten.',
    telegramLink: 'Få meldinger i Telegram',
    telegramLinked: 'Telegram-chatten din er koblet til.',
    preferences: 'Hvilke meldinger du får',
    preferencesLead: 'Fjern haken for det du ikke vil ha.',
    kind: 'Melding',
    noSms: 'Ingen SMS i det hele tatt',
    save: 'Lagre valgene',
    saved: 'Valgene er lagret.',
    invalid: 'Lenken virker ikke',
    invalidLead: 'Lenken er ugyldig eller utløpt. Bruk lenken i den nyeste meldingen vi sendte deg.',
    failed: 'Noe gikk galt. Prøv igjen.',
    loading: 'Laster…',
    back: 'Tilbake',
  },
} satisfies Record<Language, unknown>;

const token = location.pathname.split('/')[2] ?? '';
const api = apiClient([customerToken(token)]);

function App() {
  const [view, setView] = useState<View | null>(null);
  const [failed, setFailed] = useState<'invalid' | 'failed' | null>(null);
  const [language, setLanguage] = useState<Language>(languageOf(document.documentElement.lang));
  const [notice, setNotice] = useState<string | null>(null);
  const t = T[language];

  useEffect(() => {
    void api.GET('/v1/self').then(({ data, response }) => {
      if (data) {
        setView(data);
        setLanguage(languageOf(data.language));
      } else setFailed(response.status === 401 ? 'invalid' : 'failed');
    });
  }, []);
  useEffect(() => {
    document.documentElement.lang = language;
    document.title = view?.kind === 'waitlist-entry' && !view.reservation ? t.waitlistTitle : t.title;
  }, [language, view]);

  if (failed === 'invalid')
    return html`<h1>${t.invalid}</h1>
      <p>${t.invalidLead}</p>`;
  if (failed) return html`<h1>${t.failed}</h1>`;
  if (!view) return html`<p class="loading" role="status">${t.loading}</p>`;
  const update = (next: View, message?: string) => {
    setView(next);
    setNotice(message ?? null);
  };
  return html`
    <header class="bar">
      <p class="brand">${view.tenant.name}</p>
      <${LanguagePicker} language=${language} onChange=${setLanguage} />
    </header>
    ${notice ? html`<p class="notice ok" role="status">${notice}</p>` : null}
    ${view.waitlistEntry ? html`<${Entry} view=${view} language=${language} onChange=${update} />` : null}
    ${view.reservation ? html`<${Reservation} view=${view} language=${language} onChange=${update} />` : null}
    <${Messages} view=${view} language=${language} />
    ${
      view.telegram && (view.telegram.linked || view.telegram.startLink)
        ? html`<${Telegram} view=${view} language=${language} />`
        : null
    }
    ${view.preferences ? html`<${Preferences} view=${view} language=${language} onChange=${update} />` : null}
  `;
}

type Props = { view: View; language: Language; onChange: (view: View, message?: string) => void };

function Entry({ view, language, onChange }: Props) {
  const t = T[language];
  const entry = view.waitlistEntry!;
  const zone = entry.slot.location.timeZone;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const open = entry.offer?.status === 'open' && entry.status === 'offered';
  const answer = async (verb: 'accept' | 'decline') => {
    setBusy(true);
    const { data, error: problem } = await api.POST(
      verb === 'accept' ? '/v1/self/offer/accept' : '/v1/self/offer/decline',
      {},
    );
    setBusy(false);
    if (data) onChange(data);
    else setError(problemText(problem, t.failed));
  };
  return html`
    <section class="card" aria-labelledby="entry-title">
      <h1 id="entry-title">${t.waitlistTitle}</h1>
      <p class="status" data-status=${entry.status}>${t.entryStatus[entry.status] ?? entry.status}</p>
      <dl class="facts">
        <dt>${t.when}</dt>
        <dd>${dateTime(language, entry.slot.start, zone)}</dd>
        <dt>${t.where}</dt>
        <dd>${entry.slot.serviceName}, ${entry.slot.location.name}</dd>
        ${
          entry.position
            ? html`<dt>${t.position}</dt>
                <dd>${entry.position}</dd>`
            : null
        }
      </dl>
      ${
        open
          ? html`<p class="offer">${t.offerOpen(dateTime(language, entry.offer!.expiresAt!, zone))}</p>
              <div class="actions">
                <button type="button" class="primary" disabled=${busy} onClick=${() => answer('accept')}>
                  ${t.take}
                </button>
                <button type="button" disabled=${busy} onClick=${() => answer('decline')}>${t.letGo}</button>
              </div>`
          : null
      }
      ${error ? html`<p class="notice" role="alert">${error}</p>` : null}
    </section>
  `;
}

function Reservation({ view, language, onChange }: Props) {
  const t = T[language];
  const r = view.reservation!;
  const zone = r.location.timeZone;
  const [mode, setMode] = useState<'idle' | 'cancel' | 'move'>('idle');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const cancel = async () => {
    setBusy(true);
    const { data, error: problem } = await api.POST('/v1/self/cancel', { body: {} });
    setBusy(false);
    if (data) {
      setMode('idle');
      onChange(data, t.cancelled);
    } else setError(problemText(problem, t.failed));
  };
  const download = async () => {
    const { data, error: problem } = await api.GET('/v1/self/calendar.ics', { parseAs: 'blob' });
    if (!data) return setError(problemText(problem, t.failed));
    const url = URL.createObjectURL(data as Blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = `reservation-${r.code ?? r.reservationId}.ics`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  const selfService = view.rules.cancelUntil || view.rules.rescheduleUntil;
  return html`
    <section class="card" aria-labelledby="reservation-title">
      <h1 id="reservation-title">${t.title}</h1>
      <p class="status" data-status=${r.status}>${t.status[r.status] ?? r.status}</p>
      <p class="code-box">${t.code}: <strong class="code">${r.code ?? r.reservationId}</strong></p>
      <dl class="facts">
        <dt>${t.when}</dt>
        <dd>${dateTime(language, r.start, zone)}–${time(language, r.end, zone)}</dd>
        <dt>${t.where}</dt>
        <dd>${r.serviceName}, ${r.location.name}${r.location.address ? `, ${r.location.address}` : ''}</dd>
        <dt>${t.party}</dt>
        <dd>${r.partySize}</dd>
      </dl>
      <p><button type="button" onClick=${download}>${t.calendar}</button></p>
      ${
        mode === 'cancel'
          ? html`<div class="confirm" role="alertdialog" aria-labelledby="cancel-q">
              <p id="cancel-q">${t.cancelSure}</p>
              <div class="actions">
                <button type="button" class="danger" disabled=${busy} onClick=${cancel}>${t.cancelYes}</button>
                <button type="button" onClick=${() => setMode('idle')}>${t.keep}</button>
              </div>
            </div>`
          : mode === 'move'
            ? html`<${Move}
                view=${view}
                language=${language}
                onDone=${(next: View) => {
                  setMode('idle');
                  onChange(next, t.moved);
                }}
                onBack=${() => setMode('idle')}
              />`
            : html`<div class="actions">
                ${
                  view.rules.rescheduleUntil
                    ? html`<button type="button" onClick=${() => setMode('move')}>${t.move}</button>`
                    : null
                }
                ${
                  view.rules.cancelUntil
                    ? html`<button type="button" class="danger" onClick=${() => setMode('cancel')}>${t.cancel}</button>`
                    : null
                }
              </div>`
      }
      ${view.rules.cancelUntil ? html`<p class="hint">${t.cancelUntil(dateTime(language, view.rules.cancelUntil, zone))}</p>` : null}
      ${
        view.rules.rescheduleUntil && mode !== 'move'
          ? html`<p class="hint">${t.moveUntil(dateTime(language, view.rules.rescheduleUntil, zone))}</p>`
          : null
      }
      ${!selfService && (r.status === 'confirmed' || r.status === 'requested') ? html`<p class="hint">${t.noSelfService}</p>` : null}
      ${error ? html`<p class="notice" role="alert">${error}</p>` : null}
    </section>
  `;
}

function Move({
  view,
  language,
  onDone,
  onBack,
}: {
  view: View;
  language: Language;
  onDone: (v: View) => void;
  onBack: () => void;
}) {
  const t = T[language];
  const zone = view.reservation!.location.timeZone;
  const [from, setFrom] = useState(isoDate(0));
  const [to, setTo] = useState(isoDate(6));
  const [slots, setSlots] = useState<Slot[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const search = async (event: Event) => {
    event.preventDefault();
    const end = new Date(Date.parse(startOfDate(to)) + 86_400_000).toISOString();
    const { data, error: problem } = await api.GET('/v1/self/slots', {
      params: { query: { from: startOfDate(from), to: end } },
    });
    if (data) setSlots(data.slots);
    else setError(problemText(problem, t.failed));
  };
  const move = async (slot: Slot) => {
    setBusy(true);
    const { data, error: problem } = await api.POST('/v1/self/reschedule', { body: { start: slot.start } });
    setBusy(false);
    if (data) onDone(data);
    else setError(problemText(problem, t.failed));
  };
  return html`
    <form class="inline" onSubmit=${search}>
      <div class="row">
        <label
          >${t.from}<input
            type="date"
            value=${from}
            onInput=${(e: Event) => setFrom((e.target as HTMLInputElement).value)}
        /></label>
        <label
          >${t.to}<input type="date" value=${to} onInput=${(e: Event) => setTo((e.target as HTMLInputElement).value)}
        /></label>
      </div>
      <div class="actions">
        <button type="submit" class="primary">${t.showTimes}</button>
        <button type="button" onClick=${onBack}>${t.back}</button>
      </div>
    </form>
    ${slots && slots.length === 0 ? html`<p>${t.noTimes}</p>` : null}
    ${
      slots && slots.length > 0
        ? html`<ul class="slot-list">
            ${slots.map(
              (slot) =>
                html`<li data-day=${dateKey(slot.start, zone)}>
                  <button type="button" class="slot" disabled=${busy} onClick=${() => move(slot)}>
                    ${t.moveTo(`${day(language, slot.start, zone)} ${time(language, slot.start, zone)}`)}
                  </button>
                </li>`,
            )}
          </ul>`
        : null
    }
    ${error ? html`<p class="notice" role="alert">${error}</p>` : null}
  `;
}

function Messages({ view, language }: { view: View; language: Language }) {
  const t = T[language];
  const zone = view.reservation?.location.timeZone ?? view.waitlistEntry?.slot.location.timeZone ?? 'UTC';
  return html`
    <section class="card" aria-labelledby="messages-title">
      <h2 id="messages-title">${t.messages}</h2>
      ${
        view.messages.length === 0
          ? html`<p>${t.noMessages}</p>`
          : html`<ul class="messages">
              ${view.messages.map(
                (m) =>
                  html`<li>
                    <span>${kindName(language, m.kind)}</span>
                    <span>${CHANNEL_NAMES[language][m.channel]}</span>
                    <span>${t.msgStatus[m.status] ?? m.status}</span>
                    <time datetime=${m.requestedAt}>${dateTime(language, m.sentAt ?? m.requestedAt, zone)}</time>
                  </li>`,
              )}
            </ul>`
      }
    </section>
  `;
}

/** The link to the tenant's Telegram bot: pressing Start there links the customer's chat (it runs out within the hour). */
function Telegram({ view, language }: { view: View; language: Language }) {
  const t = T[language];
  const telegram = view.telegram!;
  return html`
    <section class="card" aria-labelledby="telegram-title">
      <h2 id="telegram-title">${t.telegram}</h2>
      ${
        telegram.linked
          ? html`<p>${t.telegramLinked}</p>`
          : telegram.startLink
            ? html`<p class="hint">${t.telegramLead}</p>
                <p>
                  <a class="button" href=${telegram.startLink} target="_blank" rel="noopener">${t.telegramLink}</a>
                </p>`
            : null
      }
    </section>
  `;
}

function Preferences({ view, language, onChange }: Props) {
  const t = T[language];
  const prefs = view.preferences!;
  const [blocked, setBlocked] = useState({ email: [...prefs.blocked.email], sms: [...prefs.blocked.sms] });
  const [noSms, setNoSms] = useState(prefs.smsOptedOut);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const kinds = prefs.blockableKinds.filter((k) => k !== 'staff-alert');
  const toggle = (channel: 'email' | 'sms', kind: string, wanted: boolean) =>
    setBlocked((current) => ({
      ...current,
      [channel]: wanted ? current[channel].filter((k) => k !== kind) : [...current[channel], kind],
    }));
  const save = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    const { data, error: problem } = await api.PUT('/v1/self/preferences', {
      body: { blocked: blocked as never, smsOptedOut: noSms },
    });
    setBusy(false);
    if (data) onChange(data, t.saved);
    else setError(problemText(problem, t.failed));
  };
  return html`
    <section class="card" aria-labelledby="prefs-title">
      <h2 id="prefs-title">${t.preferences}</h2>
      <p class="hint">${t.preferencesLead}</p>
      <form onSubmit=${save}>
        <table class="prefs">
          <thead>
            <tr>
              <th scope="col">${t.kind}</th>
              <th scope="col">${CHANNEL_NAMES[language].email}</th>
              <th scope="col">${CHANNEL_NAMES[language].sms}</th>
            </tr>
          </thead>
          <tbody>
            ${kinds.map(
              (kind) =>
                html`<tr>
                  <th scope="row">${kindName(language, kind)}</th>
                  ${(['email', 'sms'] as const).map(
                    (channel) =>
                      html`<td>
                        <input
                          type="checkbox"
                          id=${`pref-${channel}-${kind}`}
                          aria-label=${`${kindName(language, kind)}: ${CHANNEL_NAMES[language][channel]}`}
                          checked=${!blocked[channel].includes(kind)}
                          disabled=${channel === 'sms' && noSms}
                          onChange=${(e: Event) => toggle(channel, kind, (e.target as HTMLInputElement).checked)}
                        />
                      </td>`,
                  )}
                </tr>`,
            )}
          </tbody>
        </table>
        <label class="choice"
          ><input
            type="checkbox"
            checked=${noSms}
            onChange=${(e: Event) => setNoSms((e.target as HTMLInputElement).checked)}
          />
          <span>${t.noSms}</span></label
        >
        ${error ? html`<p class="notice" role="alert">${error}</p>` : null}
        <button type="submit" class="primary" disabled=${busy}>${t.save}</button>
      </form>
    </section>
  `;
}

mount(html`<${App} />`);
