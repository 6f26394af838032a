/**
 * The tenant's public booking page (/book/<tenant>), phone-first: a service and a date range → the live slots →
 * the customer's details → confirm; a full slot offers the waitlist instead; the confirmation shows the short
 * reservation code and the link to the customer's own page. Everything through the public API.
 */
import { apiClient, newRequestId, problemCode, problemText, type Schemas } from '../lib/api.js';
import { dateKey, day, isoDate, languageOf, startOfDate, time, type Language } from '../lib/format.js';
import { html, mount, useEffect, useState } from '../lib/ui.js';
import { LanguagePicker } from '../lib/language-picker.js';

type Page = Schemas['BookingPage'];
type Service = Page['services'][number];
type Slot = Schemas['Availability']['slots'][number];

const T = {
  en: {
    book: 'Book a time',
    service: 'Service',
    from: 'From',
    to: 'To',
    party: 'Number of people',
    show: 'Show free times',
    noSlots: 'No times in these days. Try other dates.',
    free: (n: number) => (n === 1 ? '1 place free' : `${n} places free`),
    full: 'Full — join the waitlist',
    details: 'Your details',
    name: 'Name',
    email: 'Email',
    phone: 'Mobile phone (with country code, e.g. +420…)',
    contactHint: 'We send the confirmation and reminders here. Give at least one.',
    confirm: 'Confirm booking',
    joinWaitlist: 'Join the waitlist',
    waitlistHint: 'This time is full. Join the waitlist and we will offer you the place if one becomes free.',
    back: 'Back',
    booked: 'Your booking is made',
    requested: 'Your request is received',
    requestedLead: 'The staff will confirm it; you will get a message.',
    bookedLead: 'A confirmation is on its way to you.',
    joined: 'You are on the waitlist',
    joinedLead: (p: number | null) =>
      p ? `You are number ${p} in line. We will message you when a place is free.` : '',
    code: 'Reservation code',
    when: 'When',
    where: 'Where',
    yourPage: 'Open your booking page',
    yourPageHint: 'There you can cancel or move it, add it to your calendar and choose which messages you get.',
    notFound: 'There is no booking page here.',
    failed: 'Something went wrong. Please try again.',
    slotGone: 'Someone was faster: this time is no longer free. Please choose another.',
    loading: 'Loading…',
    minutes: (n: number) => `${n} min`,
  },
  cs: {
    book: 'Rezervace termínu',
    service: 'Služba',
    from: 'Od',
    to: 'Do',
    party: 'Počet osob',
    show: 'Zobrazit volné termíny',
    noSlots: 'V těchto dnech nejsou volné termíny. Zkuste jiná data.',
    free: (n: number) => (n === 1 ? 'volné 1 místo' : n < 5 ? `volná ${n} místa` : `volných ${n} míst`),
    full: 'Plno — zapsat do pořadníku',
    details: 'Vaše údaje',
    name: 'Jméno',
    email: 'E-mail',
    phone: 'Mobilní telefon (s předvolbou, např. +420…)',
    contactHint: 'Sem pošleme potvrzení a připomínky. Vyplňte alespoň jedno.',
    confirm: 'Potvrdit rezervaci',
    joinWaitlist: 'Zapsat do pořadníku',
    waitlistHint: 'Tento termín je plný. Zapište se do pořadníku a když se místo uvolní, nabídneme vám ho.',
    back: 'Zpět',
    booked: 'Rezervace je hotová',
    requested: 'Vaši žádost jsme přijali',
    requestedLead: 'Personál ji potvrdí; dostanete zprávu.',
    bookedLead: 'Potvrzení vám právě posíláme.',
    joined: 'Jste v pořadníku',
    joinedLead: (p: number | null) => (p ? `Jste ${p}. v pořadí. Jakmile se uvolní místo, napíšeme vám.` : ''),
    code: 'Kód rezervace',
    when: 'Kdy',
    where: 'Kde',
    yourPage: 'Otevřít stránku vaší rezervace',
    yourPageHint: 'Tam ji můžete zrušit nebo přesunout, přidat do kalendáře a zvolit, jaké zprávy chcete dostávat.',
    notFound: 'Zde není žádná rezervační stránka.',
    failed: 'Něco se nepovedlo. Zkuste to prosím znovu.',
    slotGone: 'Někdo byl rychlejší: termín už není volný. Vyberte prosím jiný.',
    loading: 'Načítání…',
    minutes: (n: number) => `${n} min`,
  },
  nb: {
    book: 'Bestill time',
    service: 'Tjeneste',
    from: 'Fra',
    to: 'Til',
    party: 'Antall personer',
    show: 'Vis ledige tider',
    noSlots: 'Ingen ledige tider disse dagene. Prøv andre datoer.',
    free: (n: number) => (n === 1 ? '1 ledig plass' : `${n} ledige plasser`),
    full: 'Fullt — sett meg på ventelisten',
    details: 'Dine opplysninger',
    name: 'Navn',
    email: 'E-post',
    phone: 'Mobil (med landskode, f.eks. +47…)',
    contactHint: 'Hit sender vi bekreftelse og påminnelser. Oppgi minst én.',
    confirm: 'Bekreft bestilling',
    joinWaitlist: 'Sett meg på ventelisten',
    waitlistHint: 'Denne tiden er full. Står du på ventelisten, tilbyr vi deg plassen hvis den blir ledig.',
    back: 'Tilbake',
    booked: 'Bestillingen er gjort',
    requested: 'Forespørselen er mottatt',
    requestedLead: 'De ansatte bekrefter den; du får en melding.',
    bookedLead: 'En bekreftelse er på vei til deg.',
    joined: 'Du står på ventelisten',
    joinedLead: (p: number | null) => (p ? `Du er nummer ${p} i køen. Vi gir beskjed når en plass blir ledig.` : ''),
    code: 'Bestillingskode',
    when: 'Når',
    where: 'Hvor',
    yourPage: 'Åpne din bestillingsside',
    yourPageHint: 'Der kan du avbestille eller flytte, legge den i kalenderen og velge hvilke meldinger du får.',
    notFound: 'Det finnes ingen bestillingsside her.',
    failed: 'Noe gikk galt. Prøv igjen.',
    slotGone: 'Noen var raskere: tiden er ikke lenger ledig. Velg en annen.',
    loading: 'Laster…',
    minutes: (n: number) => `${n} min`,
  },
} satisfies Record<Language, unknown>;

const api = apiClient();
const tenantId = decodeURIComponent(location.pathname.split('/')[2] ?? '');
const queryLanguage = new URLSearchParams(location.search).get('lang');

type Step =
  | { name: 'search' }
  | { name: 'details'; slot: Slot }
  | { name: 'booked'; answer: Schemas['PublicBookingAnswer'] }
  | { name: 'joined'; answer: Schemas['PublicWaitlistAnswer'] };

function App() {
  const [page, setPage] = useState<Page | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [language, setLanguage] = useState<Language>(languageOf(queryLanguage ?? navigator.language));
  const t = T[language];

  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);
  useEffect(() => {
    void api
      .GET('/v1/public/tenants/{tenantId}/booking-page', { params: { path: { tenantId } } })
      .then(({ data, error: problem }) => {
        if (data) {
          setPage(data);
          if (!queryLanguage && !['en', 'cs', 'nb'].includes(languageOf(navigator.language)))
            setLanguage(languageOf(data.defaultLocale));
        } else setError(problemCode(problem) === 'booking-page-not-found' ? 'notFound' : 'failed');
      });
  }, []);

  if (error) return html`<h1>${error === 'notFound' ? t.notFound : t.failed}</h1>`;
  if (!page) return html`<p class="loading" role="status">${t.loading}</p>`;
  return html`
    <header class="bar">
      <p class="brand">${page.name}</p>
      <${LanguagePicker} language=${language} onChange=${setLanguage} />
    </header>
    <${Booking} page=${page} language=${language} />
  `;
}

function Booking({ page, language }: { page: Page; language: Language }) {
  const t = T[language];
  const [serviceId, setServiceId] = useState(page.services[0]?.serviceId ?? '');
  const [from, setFrom] = useState(isoDate(0));
  const [to, setTo] = useState(isoDate(6));
  const [party, setParty] = useState(1);
  const [slots, setSlots] = useState<Slot[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [step, setStep] = useState<Step>({ name: 'search' });
  const service = page.services.find((s) => s.serviceId === serviceId);

  const search = async (event?: Event) => {
    event?.preventDefault();
    if (!service) return;
    setBusy(true);
    setMessage(null);
    const { data, error } = await api.GET('/v1/public/tenants/{tenantId}/availability', {
      params: {
        path: { tenantId },
        query: { serviceId, from: startOfDate(from), to: startOfDate(addDay(to)), partySize: party },
      },
    });
    setBusy(false);
    if (data) setSlots(data.slots);
    else setMessage(problemText(error, t.failed));
  };

  if (step.name === 'booked' || step.name === 'joined') {
    return html`<${Done} step=${step} language=${language} service=${service} />`;
  }
  if (step.name === 'details' && service) {
    return html`<${Details}
      service=${service}
      slot=${step.slot}
      party=${party}
      language=${language}
      onBack=${(gone?: boolean) => {
        setStep({ name: 'search' });
        if (gone) {
          setMessage(t.slotGone);
          void search();
        }
      }}
      onDone=${setStep}
    />`;
  }
  const zone = service?.location.timeZone ?? 'UTC';
  const days = new Map<string, Slot[]>();
  for (const slot of slots ?? []) {
    const key = dateKey(slot.start, zone);
    days.set(key, [...(days.get(key) ?? []), slot]);
  }
  return html`
    <h1>${t.book}</h1>
    <form class="card" onSubmit=${search}>
      <fieldset>
        <legend>${t.service}</legend>
        ${page.services.map(
          (s) => html`
            <label class="choice">
              <input
                type="radio"
                name="service"
                value=${s.serviceId}
                checked=${s.serviceId === serviceId}
                onChange=${() => {
                  setServiceId(s.serviceId);
                  setSlots(null);
                }}
              />
              <span>
                <strong>${s.name}</strong>
                <small>${t.minutes(s.durationMinutes)} · ${s.location.name}</small>
                ${s.description ? html`<small>${s.description}</small>` : null}
              </span>
            </label>
          `,
        )}
      </fieldset>
      <div class="row">
        <label
          >${t.from}<input
            type="date"
            value=${from}
            min=${isoDate(0)}
            onInput=${(e: Event) => setFrom(value(e))}
            required
        /></label>
        <label
          >${t.to}<input type="date" value=${to} min=${from} onInput=${(e: Event) => setTo(value(e))} required
        /></label>
      </div>
      <label
        >${t.party}
        <input
          type="number"
          min="1"
          max=${service?.maxPartySize ?? 1}
          value=${party}
          onInput=${(e: Event) => setParty(Math.max(1, Number(value(e)) || 1))}
      /></label>
      <button type="submit" class="primary" disabled=${busy || !service}>${t.show}</button>
    </form>
    ${message ? html`<p class="notice" role="alert">${message}</p>` : null}
    ${
      slots !== null
        ? html`<section aria-live="polite" class="slots">
            ${slots.length === 0 ? html`<p>${t.noSlots}</p>` : null}
            ${[...days.entries()].map(
              ([key, list]) => html`
                <h2>${day(language, list[0]!.start, zone)}</h2>
                <ul class="slot-list" data-day=${key}>
                  ${list.map(
                    (slot) =>
                      html`<li>
                        <button
                          type="button"
                          class=${slot.remainingSeats >= party ? 'slot' : 'slot full'}
                          data-start=${slot.start}
                          onClick=${() => setStep({ name: 'details', slot })}
                        >
                          <span class="time">${time(language, slot.start, zone)}</span>
                          <span>${slot.remainingSeats >= party ? t.free(slot.remainingSeats) : t.full}</span>
                        </button>
                      </li>`,
                  )}
                </ul>
              `,
            )}
          </section>`
        : null
    }
  `;
}

function Details(props: {
  service: Service;
  slot: Slot;
  party: number;
  language: Language;
  onBack: (gone?: boolean) => void;
  onDone: (step: Step) => void;
}) {
  const { service, slot, party, language } = props;
  const t = T[language];
  const full = slot.remainingSeats < party;
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [phone, setPhone] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [requestId] = useState(newRequestId);
  const zone = service.location.timeZone;

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!email.trim() && !phone.trim()) {
      setMessage(t.contactHint);
      return;
    }
    setBusy(true);
    setMessage(null);
    const customer = {
      name: name.trim(),
      locale: `${language}-${language === 'en' ? 'GB' : language === 'cs' ? 'CZ' : 'NO'}`,
      ...(email.trim() ? { email: email.trim() } : {}),
      ...(phone.trim() ? { phone: phone.replace(/[\s-]/g, '') } : {}),
    };
    const common = { serviceId: service.serviceId, start: slot.start, partySize: party, customer };
    if (full) {
      const { data, error } = await api.POST('/v1/public/tenants/{tenantId}/waitlist-entries', {
        params: { path: { tenantId } },
        body: common,
      });
      setBusy(false);
      if (data) props.onDone({ name: 'joined', answer: data });
      else setMessage(problemText(error, t.failed));
      return;
    }
    const { data, error } = await api.POST('/v1/public/tenants/{tenantId}/reservations', {
      params: { path: { tenantId } },
      body: { ...common, requestId },
    });
    setBusy(false);
    if (data) props.onDone({ name: 'booked', answer: data });
    else if (['slot-full', 'resource-busy', 'slot-reserved-for-waitlist'].includes(problemCode(error) ?? ''))
      props.onBack(true);
    else setMessage(problemText(error, t.failed));
  };

  return html`
    <h1>${full ? t.joinWaitlist : t.details}</h1>
    <p class="summary">
      <strong>${service.name}</strong><br />
      ${day(language, slot.start, zone)}, ${time(language, slot.start, zone)}–${time(language, slot.end, zone)}<br />
      ${service.location.name}
    </p>
    ${full ? html`<p class="notice">${t.waitlistHint}</p>` : null}
    <form class="card" onSubmit=${submit}>
      <label
        >${t.name}<input
          name="name"
          autocomplete="name"
          required
          maxlength="200"
          value=${name}
          onInput=${(e: Event) => setName(value(e))}
      /></label>
      <label
        >${t.email}<input
          name="email"
          type="email"
          autocomplete="email"
          maxlength="254"
          value=${email}
          onInput=${(e: Event) => setEmail(value(e))}
      /></label>
      <label
        >${t.phone}<input
          name="phone"
          type="tel"
          autocomplete="tel"
          pattern="\\+?[0-9 \\-]{7,20}"
          value=${phone}
          onInput=${(e: Event) => setPhone(value(e))}
      /></label>
      <p class="hint">${t.contactHint}</p>
      ${message ? html`<p class="notice" role="alert">${message}</p>` : null}
      <div class="actions">
        <button type="button" onClick=${() => props.onBack()}>${t.back}</button>
        <button type="submit" class="primary" disabled=${busy}>${full ? t.joinWaitlist : t.confirm}</button>
      </div>
    </form>
  `;
}

function Done({ step, language, service }: { step: Step; language: Language; service: Service | undefined }) {
  const t = T[language];
  const zone = service?.location.timeZone ?? 'UTC';
  if (step.name === 'joined') {
    const entry = step.answer.waitlistEntry;
    return html`
      <h1>${t.joined}</h1>
      <p>${t.joinedLead(entry.position)}</p>
      <dl class="facts">
        <dt>${t.when}</dt>
        <dd>${day(language, entry.slot.start, zone)}, ${time(language, entry.slot.start, zone)}</dd>
        <dt>${t.where}</dt>
        <dd>${entry.slot.location.name}</dd>
      </dl>
      <p><a class="button primary" href=${step.answer.customerPageUrl}>${t.yourPage}</a></p>
      <p class="hint">${t.yourPageHint}</p>
    `;
  }
  if (step.name !== 'booked') return null;
  const r = step.answer.reservation;
  return html`
    <h1>${r.status === 'requested' ? t.requested : t.booked}</h1>
    <p>${r.status === 'requested' ? t.requestedLead : t.bookedLead}</p>
    <p class="code-box">
      ${t.code}: <strong class="code" data-testid="reservation-code">${r.code ?? r.reservationId}</strong>
    </p>
    <dl class="facts">
      <dt>${t.when}</dt>
      <dd>${day(language, r.start, zone)}, ${time(language, r.start, zone)}–${time(language, r.end, zone)}</dd>
      <dt>${t.where}</dt>
      <dd>${r.location.name}${r.location.address ? `, ${r.location.address}` : ''}</dd>
    </dl>
    <p><a class="button primary" href=${step.answer.customerPageUrl}>${t.yourPage}</a></p>
    <p class="hint">${t.yourPageHint}</p>
  `;
}

function value(event: Event): string {
  return (event.target as HTMLInputElement).value;
}

function addDay(date: string): string {
  const [y, m, d] = date.split('-').map(Number);
  const next = new Date(y!, m! - 1, d! + 1);
  return `${next.getFullYear()}-${String(next.getMonth() + 1).padStart(2, '0')}-${String(next.getDate()).padStart(2, '0')}`;
}

mount(html`<${App} />`);
