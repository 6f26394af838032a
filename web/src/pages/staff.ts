/**
 * The staff console (/staff): sign in with an email address and a password (a session cookie, never an API key in
 * the page), then the day and week by resource, a reservation's detail with its history and delivery audit trail,
 * freeing a seat after the warning that names who gets it, waitlists with their order and overrides, deliveries
 * (KPI charts, sent SMS, dead letters with re-send), credits, workflows. Every call is the public /v1 API, with the
 * session cookie and its CSRF token.
 */
import { apiClient, csrf, problemText, type Schemas } from '../lib/api.js';
import type { operations } from '../api/schema.js';
import { dateKey, dateTime, day, isoDate, languageOf, startOfDate, time, type Language } from '../lib/format.js';
import { CHANNEL_NAMES, kindName } from '../lib/kinds.js';
import { LanguagePicker } from '../lib/language-picker.js';
import { html, mount, useEffect, useState } from '../lib/ui.js';
import { analyzeSms } from '../../../src/domain/notification/sms-encoding.js';
import { T, type Texts } from './staff-texts.js';

type Session = Schemas['StaffSession'];
type Reservation = Schemas['ReservationListItem'];
type Preview = Schemas['WaitlistPreview'];
type WaitlistList = operations['listWaitlists']['responses'][200]['content']['application/json'];

let csrfToken: string | undefined;
const api = apiClient([csrf(() => csrfToken)]);
const params = new URLSearchParams(location.search);

function useHash(): string {
  const [hash, setHash] = useState(location.hash.slice(1) || 'day');
  useEffect(() => {
    const on = () => setHash(location.hash.slice(1) || 'day');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [language, setLanguage] = useState<Language>(languageOf(document.documentElement.lang));
  const t = T[language];
  useEffect(() => {
    void api.GET('/v1/staff-sessions/current').then(({ data }) => {
      if (data) signedIn(data);
      else setSession(null);
    });
  }, []);
  useEffect(() => {
    document.documentElement.lang = language;
    document.title = t.console;
  }, [language]);
  const signedIn = (data: Session) => {
    csrfToken = data.csrfToken;
    setSession(data);
    if (!params.get('lang')) setLanguage(languageOf(data.account.locale));
  };
  if (session === undefined) return html`<p class="loading" role="status">${t.loading}</p>`;
  if (session === null)
    return html`<${SignIn} language=${language} setLanguage=${setLanguage} onSignedIn=${signedIn} />`;
  return html`<${Console}
    session=${session}
    language=${language}
    setLanguage=${setLanguage}
    onSignedOut=${() => {
      csrfToken = undefined;
      setSession(null);
    }}
  />`;
}

function SignIn(props: { language: Language; setLanguage: (l: Language) => void; onSignedIn: (s: Session) => void }) {
  const t = T[props.language];
  const [tenantId, setTenantId] = useState(params.get('tenant') ?? '');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const {
      data,
      error: problem,
      response,
    } = await api.POST('/v1/staff-sessions', {
      body: { tenantId: tenantId.trim(), email: email.trim(), password },
    });
    setBusy(false);
    if (data) props.onSignedIn(data);
    else setError(response.status === 401 ? t.signInFailed : problemText(problem, t.failed));
  };
  return html`
    <header class="bar">
      <p class="brand">Herald</p>
      <${LanguagePicker} language=${props.language} onChange=${props.setLanguage} />
    </header>
    <h1>${t.signIn}</h1>
    <form class="card" onSubmit=${submit}>
      <label
        >${t.organisation}<input name="tenant" required value=${tenantId} onInput=${(e: Event) => setTenantId(v(e))}
      /></label>
      <label
        >${t.email}<input
          name="email"
          type="email"
          autocomplete="username"
          required
          value=${email}
          onInput=${(e: Event) => setEmail(v(e))}
      /></label>
      <label
        >${t.password}<input
          name="password"
          type="password"
          autocomplete="current-password"
          required
          value=${password}
          onInput=${(e: Event) => setPassword(v(e))}
      /></label>
      ${error ? html`<p class="notice" role="alert">${error}</p>` : null}
      <button type="submit" class="primary" disabled=${busy}>${t.signIn}</button>
    </form>
  `;
}

function Console(props: {
  session: Session;
  language: Language;
  setLanguage: (l: Language) => void;
  onSignedOut: () => void;
}) {
  const { session, language } = props;
  const t = T[language];
  const hash = useHash();
  const [route, arg] = hash.split('/');
  const signOut = async () => {
    await api.DELETE('/v1/staff-sessions/current');
    props.onSignedOut();
  };
  const tabs: [string, string][] = [
    ['day', t.tabs.day],
    ['week', t.tabs.week],
    ['customers', t.tabs.customers],
    ['waitlists', t.tabs.waitlists],
    ['deliveries', t.tabs.deliveries],
    ['workflows', t.tabs.workflows],
  ];
  return html`
    <header class="bar">
      <p class="brand">Herald · ${session.account.tenantId}</p>
      <span>${session.account.name} (${t.roles[session.account.role]})</span>
      <${LanguagePicker} language=${language} onChange=${props.setLanguage} />
      <button type="button" onClick=${signOut}>${t.signOut}</button>
    </header>
    <nav class="tabs" aria-label=${t.console}>
      ${tabs.map(([id, label]) => html`<a href=${`#${id}`} aria-current=${route === id ? 'page' : undefined}>${label}</a>`)}
    </nav>
    ${
      route === 'reservation' && arg
        ? html`<${ReservationDetail} id=${decodeURIComponent(arg)} language=${language} />`
        : route === 'week'
          ? html`<${Calendar} days=${7} language=${language} />`
          : route === 'customers'
            ? html`<${Customers} language=${language} />`
            : route === 'waitlists'
              ? html`<${Waitlists}
                  language=${language}
                  openId=${arg ? decodeURIComponent(arg) : undefined}
                  admin=${session.account.role === 'admin'}
                />`
              : route === 'deliveries'
                ? html`<${Deliveries} language=${language} />`
                : route === 'workflows'
                  ? html`<${Workflows} language=${language} />`
                  : html`<${Calendar} days=${1} language=${language} />`
    }
  `;
}

// The day and the week by resource ----------------------------------------------------------------------------------

/** Monday of the week a YYYY-MM-DD date falls in (the week view always shows Monday to Sunday). */
function mondayOf(date: string): string {
  const noon = new Date(Date.parse(startOfDate(date)) + 12 * 3_600_000);
  return isoDate(-((noon.getDay() + 6) % 7), noon);
}

function shiftDate(date: string, days: number): string {
  return isoDate(days, new Date(Date.parse(startOfDate(date)) + 12 * 3_600_000));
}

const HOLDS = new Set(['confirmed', 'requested']);

interface Slot {
  resourceId: string;
  start: string;
  serviceId: string | null;
  zone: string;
  reservations: Reservation[];
}

function Calendar({ days, language }: { days: number; language: Language }) {
  const t = T[language];
  const [picked, setDate] = useState(params.get('date') ?? isoDate(0));
  const date = days === 7 ? mondayOf(picked) : picked;
  const [items, setItems] = useState<Reservation[] | null>(null);
  const [resources, setResources] = useState<Map<string, string>>(new Map());
  // Seats per slot (resource + start instant) from the availability API, full slots included.
  const [capacity, setCapacity] = useState<Map<string, { capacity: number; remaining: number }>>(new Map());
  const [waitlists, setWaitlists] = useState<WaitlistList['items']>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const from = startOfDate(date);
    const to = startOfDate(shiftDate(date, days));
    setItems(null);
    void Promise.all([
      api.GET('/v1/reservations', { params: { query: { from, to, limit: 200 } } }),
      api.GET('/v1/resources', {}),
      api.GET('/v1/waitlists', { params: { query: { from, to, status: 'open' } } }),
    ]).then(async ([list, res, wl]) => {
      if (res.data)
        setResources(new Map(res.data.items.map((r: { resourceId: string; name: string }) => [r.resourceId, r.name])));
      setWaitlists(wl.data?.items ?? []);
      if (!list.data) return setError(problemText(list.error, t.failed));
      setError(null);
      const services = [...new Set(list.data.items.map((r) => r.serviceId).filter((s): s is string => !!s))];
      const seats = new Map<string, { capacity: number; remaining: number }>();
      const answers = await Promise.all(
        services.map((serviceId) =>
          api.GET('/v1/availability', { params: { query: { serviceId, from, to, includeFull: 'true' } } }),
        ),
      );
      for (const answer of answers)
        for (const s of answer.data?.slots ?? [])
          seats.set(`${s.resourceId}|${Date.parse(s.start)}`, { capacity: s.capacity, remaining: s.remainingSeats });
      setCapacity(seats);
      setItems(list.data.items);
    });
  }, [date, days]);
  const dates = Array.from({ length: days }, (_, i) => shiftDate(date, i));
  // Rows by resource; in each row, the slots (resource + start) with their reservations.
  const rows = new Map<string, Slot[]>();
  for (const r of [...(items ?? [])].sort((a, b) => Date.parse(a.start) - Date.parse(b.start))) {
    const resourceId = r.resourceId ?? '-';
    const slots = rows.get(resourceId) ?? [];
    let slot = slots.find((s) => Date.parse(s.start) === Date.parse(r.start));
    if (!slot) {
      slot = {
        resourceId,
        start: r.start,
        serviceId: r.serviceId,
        zone: r.location?.timeZone ?? 'UTC',
        reservations: [],
      };
      slots.push(slot);
    }
    slot.reservations.push(r);
    rows.set(resourceId, slots);
  }
  const step = days === 7 ? 7 : 1;
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const title = days === 1 ? t.tabs.day : t.weekOf(day(language, startOfDate(date), browserZone));
  const seatsOf = (slot: Slot) => {
    const known = capacity.get(`${slot.resourceId}|${Date.parse(slot.start)}`);
    const taken = slot.reservations.filter((r) => HOLDS.has(r.status)).reduce((n, r) => n + r.partySize, 0);
    return known ? { taken: known.capacity - known.remaining, capacity: known.capacity } : { taken, capacity: null };
  };
  const waitlistOf = (slot: Slot) =>
    waitlists.find((w) => w.serviceId === slot.serviceId && Date.parse(w.start) === Date.parse(slot.start));
  return html`
    <h1>${title}</h1>
    <div class="actions" role="group" aria-label=${t.navigation}>
      <button type="button" onClick=${() => setDate(shiftDate(date, -step))}>
        ${days === 7 ? t.previousWeek : t.previousDay}
      </button>
      <button type="button" onClick=${() => setDate(isoDate(0))}>${days === 7 ? t.thisWeek : t.today}</button>
      <button type="button" onClick=${() => setDate(shiftDate(date, step))}>
        ${days === 7 ? t.nextWeek : t.nextDay}
      </button>
    </div>
    <label class="inline"
      >${t.date}<input type="date" value=${date} onInput=${(e: Event) => v(e) && setDate(v(e))}
    /></label>
    ${error ? html`<p class="notice" role="alert">${error}</p>` : null}
    ${
      items === null
        ? html`<p class="loading" role="status">${t.loading}</p>`
        : items.length === 0
          ? html`<p role="status">${t.noReservations}</p>`
          : html`<div class="grid">
              <table>
                <thead>
                  <tr>
                    <th scope="col">${t.resource}</th>
                    ${dates.map((d) => html`<th scope="col">${day(language, startOfDate(d), browserZone)}</th>`)}
                  </tr>
                </thead>
                <tbody>
                  ${[...rows.entries()].map(
                    ([resourceId, slots]) =>
                      html`<tr>
                        <th scope="row">${resources.get(resourceId) ?? resourceId}</th>
                        ${dates.map(
                          (d) =>
                            html`<td>
                              ${slots
                                .filter((s) => dateKey(s.start, s.zone) === d)
                                .map((slot) => {
                                  const seats = seatsOf(slot);
                                  const waitlist = waitlistOf(slot);
                                  const at = time(language, slot.start, slot.zone);
                                  return html`<div class="slot" data-slot=${`${slot.resourceId} ${at}`}>
                                    <p class="slot-head">
                                      <strong>${at}</strong>
                                      <span class="seats">
                                        ${seats.capacity === null ? t.seatsTaken(seats.taken) : t.seatsOf(seats.taken, seats.capacity)}
                                      </span>
                                      ${
                                        waitlist && waitlist.waiting > 0
                                          ? html`<a href=${`#waitlists/${encodeURIComponent(waitlist.waitlistId)}`}
                                              >${t.waiting(waitlist.waiting)}</a
                                            >`
                                          : null
                                      }
                                    </p>
                                    ${slot.reservations.map(
                                      (r) =>
                                        html`<a
                                          class="res button"
                                          data-status=${r.status}
                                          href=${`#reservation/${encodeURIComponent(r.reservationId)}`}
                                        >
                                          ${`${at} ${r.customer.name}${r.partySize > 1 ? ` (${r.partySize})` : ''} · ${t.status[r.status] ?? r.status}`}
                                        </a>`,
                                    )}
                                  </div>`;
                                })}
                            </td>`,
                        )}
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
    }
  `;
}

// A reservation: detail, history, deliveries, freeing a seat -------------------------------------------------------

function ReservationDetail({ id, language }: { id: string; language: Language }) {
  const t = T[language];
  const [reservation, setReservation] = useState<Schemas['Reservation'] | null>(null);
  const [history, setHistory] = useState<Schemas['ReservationHistory'] | null>(null);
  const [deliveries, setDeliveries] = useState<Schemas['Delivery'][]>([]);
  const [preview, setPreview] = useState<{ action: 'cancel' | 'no-show'; preview: Preview | null } | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const load = async () => {
    const path = { reservationId: id };
    const [r, h, d] = await Promise.all([
      api.GET('/v1/reservations/{reservationId}', { params: { path } }),
      api.GET('/v1/reservations/{reservationId}/history', { params: { path } }),
      api.GET('/v1/reservations/{reservationId}/notifications', { params: { path } }),
    ]);
    if (r.data) setReservation(r.data);
    else setError(problemText(r.error, t.failed));
    if (h.data) setHistory(h.data);
    if (d.data) setDeliveries(d.data.items);
  };
  useEffect(() => void load(), [id]);
  const askToFree = async (action: 'cancel' | 'no-show') => {
    setOutcome(null);
    const { data } = await api.GET('/v1/reservations/{reservationId}/waitlist-preview', {
      params: { path: { reservationId: id } },
    });
    setPreview({ action, preview: data ?? null });
  };
  const free = async () => {
    if (!preview || !reservation) return;
    setBusy(true);
    const path = { reservationId: id };
    const headers = { 'if-match': `"${reservation.revision}"` };
    const result =
      preview.action === 'cancel'
        ? await api.POST('/v1/reservations/{reservationId}/cancel', {
            params: { path, header: headers },
            body: { by: 'staff' },
          })
        : await api.POST('/v1/reservations/{reservationId}/no-show', { params: { path, header: headers }, body: {} });
    setBusy(false);
    setPreview(null);
    if (result.data) {
      const given = (result.data.waitlist ?? []).flatMap((w) => w.allocated ?? []);
      setOutcome(given.length > 0 ? t.freedTo(given.map((g) => g.customerName ?? '').join(', ')) : t.freed);
      await load();
    } else setError(problemText(result.error, t.failed));
  };
  const confirm = async () => {
    if (!reservation) return;
    const result = await api.POST('/v1/reservations/{reservationId}/confirm', {
      params: { path: { reservationId: id }, header: { 'if-match': `"${reservation.revision}"` } },
    });
    if (result.error) setError(problemText(result.error, t.failed));
    await load();
  };
  if (!reservation)
    return error ? html`<p class="notice" role="alert">${error}</p>` : html`<p class="loading">${t.loading}</p>`;
  const zone = reservation.location.timeZone;
  const holds = reservation.status === 'confirmed' || reservation.status === 'requested';
  return html`
    <h1>${reservation.customer.name}: ${reservation.serviceName}</h1>
    <section class="card">
      <p class="status" data-status=${reservation.status}>${t.status[reservation.status] ?? reservation.status}</p>
      <dl class="facts">
        <dt>${t.when}</dt>
        <dd>${dateTime(language, reservation.start, zone)}–${time(language, reservation.end, zone)}</dd>
        <dt>${t.where}</dt>
        <dd>${reservation.location.name}</dd>
        <dt>${t.customer}</dt>
        <dd>
          ${[reservation.customer.name, reservation.customer.email, reservation.customer.phone].filter(Boolean).join(' · ')}
        </dd>
        <dt>${t.party}</dt>
        <dd>${reservation.partySize}</dd>
      </dl>
      <div class="actions">
        ${reservation.status === 'requested' ? html`<button type="button" class="primary" onClick=${confirm}>${t.confirm}</button>` : null}
        ${holds ? html`<button type="button" class="danger" onClick=${() => askToFree('cancel')}>${t.cancel}</button>` : null}
        ${reservation.status === 'confirmed' ? html`<button type="button" onClick=${() => askToFree('no-show')}>${t.noShow}</button>` : null}
      </div>
      ${
        preview
          ? html`<div class="warning" role="alertdialog" aria-labelledby="free-warning">
              <p id="free-warning"><strong>${warningText(t, preview.preview)}</strong></p>
              <div class="actions">
                <button type="button" class="danger" disabled=${busy} onClick=${free}>
                  ${preview.action === 'cancel' ? t.cancelAnyway : t.noShowAnyway}
                </button>
                <button type="button" onClick=${() => setPreview(null)}>${t.keep}</button>
              </div>
            </div>`
          : null
      }
      ${outcome ? html`<p class="notice ok" role="status">${outcome}</p>` : null}
      ${error ? html`<p class="notice" role="alert">${error}</p>` : null}
    </section>
    <section class="card">
      <h2>${t.deliveries}</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">${t.kind}</th>
            <th scope="col">${t.channel}</th>
            <th scope="col">${t.to}</th>
            <th scope="col">${t.statusCol}</th>
            <th scope="col">${t.trail}</th>
          </tr>
        </thead>
        <tbody>
          ${deliveries.map(
            (d) =>
              html`<tr>
                <td>${kindName(language, d.kind)}</td>
                <td>${CHANNEL_NAMES[language][d.channel]}</td>
                <td>${d.maskedRecipient ?? d.recipientType}</td>
                <td>${d.status}${d.skipReason ? ` (${d.skipReason})` : ''}</td>
                <td>
                  <ol>
                    ${d.history.map((h) => html`<li>${h.status} · ${dateTime(language, h.at, zone)}${h.detail ? ` · ${h.detail}` : ''}</li>`)}
                  </ol>
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>
    <section class="card">
      <h2>${t.history}</h2>
      <ol>
        ${(history?.events ?? []).map(
          (e) =>
            html`<li>
              <strong>${e.type}</strong> · ${dateTime(language, e.recordedAt, zone)} · ${e.metadata.actor ?? ''}
            </li>`,
        )}
      </ol>
    </section>
  `;
}

/** Seed 004's warning, in the staff member's language, from the API's preview. */
type SeatPreview = Pick<Preview, 'enabled' | 'mode' | 'responseWindowSeconds'> & {
  next: { customerName: string; position: number }[];
};
function warningText(t: Texts, preview: SeatPreview | null): string {
  if (!preview || !preview.enabled) return t.warnNoWaitlist;
  const first = preview.next[0];
  if (!first) return t.warnNobody;
  return preview.mode === 'assign'
    ? t.warnAssign(first.customerName, first.position)
    : t.warnOffer(first.customerName, first.position, Math.round(preview.responseWindowSeconds / 60));
}

// Customers: search and filters → a message to one customer, or to every customer the filter matches -----------------

type Customer = Schemas['CustomerProfile'];
type BulkPreview = Schemas['BulkMessagePreview'];
type Campaign = Schemas['Campaign'];
/** The filter of the list, exactly as a campaign's audience takes it: the list shown is who a bulk message reaches. */
interface CustomerFilter {
  query?: string;
  tag?: string;
  minReservations?: number;
  lastVisitAfter?: string;
  lastVisitBefore?: string;
}

const LIST_LIMIT = 100;

function Customers({ language }: { language: Language }) {
  const t = T[language];
  const [form, setForm] = useState({
    query: '',
    tag: '',
    minReservations: '',
    lastVisitAfter: '',
    lastVisitBefore: '',
  });
  const [filter, setFilter] = useState<CustomerFilter>({});
  const [items, setItems] = useState<Customer[] | null>(null);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [target, setTarget] = useState<{ type: 'bulk' } | { type: 'one'; customer: Customer } | null>(null);
  useEffect(() => {
    setItems(null);
    void api.GET('/v1/customers', { params: { query: { ...filter, limit: LIST_LIMIT } } }).then(({ data, error }) => {
      if (data) {
        setItems(data.items);
        setMore(data.nextCursor !== null);
        setError(null);
      } else setError(problemText(error, t.failed));
    });
  }, [filter]);
  const field = (name: keyof typeof form) => (e: Event) => setForm({ ...form, [name]: v(e) });
  const search = (event: Event) => {
    event.preventDefault();
    const next: CustomerFilter = {};
    if (form.query.trim()) next.query = form.query.trim();
    if (form.tag.trim()) next.tag = form.tag.trim();
    if (form.minReservations !== '') next.minReservations = Number(form.minReservations);
    if (form.lastVisitAfter) next.lastVisitAfter = startOfDate(form.lastVisitAfter);
    if (form.lastVisitBefore) next.lastVisitBefore = startOfDate(form.lastVisitBefore);
    setTarget(null);
    setFilter(next);
  };
  const count = items?.length ?? 0;
  return html`
    <h1>${t.tabs.customers}</h1>
    <form class="card filters" role="search" onSubmit=${search}>
      <label>${t.searchWords}<input type="search" name="query" value=${form.query} onInput=${field('query')} /></label>
      <label>${t.tag}<input name="tag" value=${form.tag} onInput=${field('tag')} /></label>
      <label
        >${t.minReservations}<input
          type="number"
          min="0"
          name="minReservations"
          value=${form.minReservations}
          onInput=${field('minReservations')}
      /></label>
      <label
        >${t.lastVisitAfter}<input
          type="date"
          name="lastVisitAfter"
          value=${form.lastVisitAfter}
          onInput=${field('lastVisitAfter')}
      /></label>
      <label
        >${t.lastVisitBefore}<input
          type="date"
          name="lastVisitBefore"
          value=${form.lastVisitBefore}
          onInput=${field('lastVisitBefore')}
      /></label>
      <div class="actions"><button type="submit" class="primary">${t.searchCustomers}</button></div>
    </form>
    ${error ? html`<p class="notice" role="alert">${error}</p>` : null}
    ${items === null && !error ? html`<p class="loading">${t.loading}</p>` : null}
    ${
      items
        ? html`<p role="status" data-testid="customer-count">
              ${more ? t.customersMore(count) : t.customersFound(count)}
            </p>
            ${
              count > 0
                ? html`<div class="actions">
                    <button type="button" onClick=${() => setTarget({ type: 'bulk' })}>${t.messageAll}</button>
                  </div>`
                : null
            }
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">${t.name}</th>
                    <th scope="col">${t.email}</th>
                    <th scope="col">${t.phone}</th>
                    <th scope="col">${t.tag}</th>
                    <th scope="col">${t.reservationsCol}</th>
                    <th scope="col">${t.lastVisit}</th>
                    <th scope="col"></th>
                  </tr>
                </thead>
                <tbody>
                  ${items.map(
                    (c) =>
                      html`<tr>
                        <th scope="row">${c.name ?? c.customerRef}</th>
                        <td>${c.email ?? '–'}</td>
                        <td>${c.phone ?? '–'}</td>
                        <td>${c.tags.join(', ')}</td>
                        <td>${c.reservationCount}</td>
                        <td>
                          ${c.lastVisitAt ? dateKey(c.lastVisitAt, Intl.DateTimeFormat().resolvedOptions().timeZone) : '–'}
                        </td>
                        <td>
                          <button
                            type="button"
                            aria-label=${t.writeTo(c.name ?? c.customerRef)}
                            onClick=${() => setTarget({ type: 'one', customer: c })}
                          >
                            ${t.write}
                          </button>
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
        : null
    }
    ${
      target
        ? html`<${Composer}
            key=${target.type === 'one' ? target.customer.customerRef : JSON.stringify(filter)}
            language=${language}
            filter=${filter}
            customer=${target.type === 'one' ? target.customer : null}
            onClose=${() => setTarget(null)}
          />`
        : null
    }
  `;
}

/**
 * A message, written, previewed with its cost, then sent: to one customer (POST /v1/messages), or to everyone the
 * filter matches as a campaign (POST /v1/messages/bulk/preview, then POST /v1/campaigns with the same audience).
 */
function Composer(props: {
  language: Language;
  filter: CustomerFilter;
  customer: Customer | null;
  onClose: () => void;
}) {
  const { language, filter, customer } = props;
  const t = T[language];
  const [channel, setChannel] = useState<'sms' | 'email'>('sms');
  const [subject, setSubject] = useState('');
  const [text, setText] = useState('');
  const [bulk, setBulk] = useState<BulkPreview | null>(null);
  const [single, setSingle] = useState<{ text: string; parts: number; cost: number; balance: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState<string | null>(null);
  const [campaign, setCampaign] = useState<Campaign | null>(null);
  const edited = (set: (value: string) => void) => (e: Event) => {
    set(v(e));
    setBulk(null);
    setSingle(null);
  };
  const audience = { type: 'customers' as const, filter };
  const message = () =>
    channel === 'sms' ? { sms: { text: text.trim() } } : { email: { subject: subject.trim(), text: text.trim() } };
  const preview = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setSent(null);
    setBusy(true);
    if (customer) {
      // One customer: the text as they get it, and its price from the tenant's price list (SMS parts counted as
      // the server counts them, src/domain/notification/sms-encoding.ts).
      const { data, error: problem } = await api.GET('/v1/credits', {});
      setBusy(false);
      if (!data) return setError(problemText(problem, t.failed));
      const personal = text.trim().replaceAll('{{customerName}}', customer.name ?? '');
      const parts = channel === 'sms' ? analyzeSms(personal).parts : 0;
      const cost = channel === 'sms' ? parts * data.prices.smsPerPart : data.prices.emailManual;
      return setSingle({ text: personal, parts, cost, balance: data.balance });
    }
    const { data, error: problem } = await api.POST('/v1/messages/bulk/preview', {
      body: { audience, message: message() },
    });
    setBusy(false);
    if (data) setBulk(data);
    else setError(problemText(problem, t.failed));
  };
  const send = async () => {
    setBusy(true);
    setError(null);
    if (customer) {
      const { data, error: problem } = await api.POST('/v1/messages', {
        body: {
          channel,
          to: { customerRef: customer.customerRef },
          ...(channel === 'email' ? { subject: subject.trim() } : {}),
          text: text.trim(),
          messageId: crypto.randomUUID(),
        },
      });
      setBusy(false);
      setSingle(null);
      if (data) setSent(t.sentOne(data.maskedRecipient ?? '', data.cost));
      else setError(problemText(problem, t.failed));
      return;
    }
    const { data, error: problem } = await api.POST('/v1/campaigns', {
      body: {
        campaignId: crypto.randomUUID(),
        name: `${t.bulkName} ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
        audience,
        message: message(),
      },
    });
    setBusy(false);
    setBulk(null);
    if (!data) return setError(problemText(problem, t.failed));
    setCampaign(data);
    // Progress while it runs: the campaign is throttled, so it may take a few seconds.
    for (let i = 0; i < 60 && data.status !== 'completed' && data.status !== 'cancelled'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const next = await api.GET('/v1/campaigns/{campaignId}', { params: { path: { campaignId: data.campaignId } } });
      if (!next.data) break;
      setCampaign(next.data);
      if (next.data.status === 'completed' || next.data.status === 'cancelled') break;
    }
  };
  const title = customer ? t.writeTo(customer.name ?? customer.customerRef) : t.messageAll;
  const channelName = CHANNEL_NAMES[language][channel];
  return html`
    <section class="card" aria-labelledby="composer-title">
      <h2 id="composer-title">${title}</h2>
      <form onSubmit=${preview}>
        <fieldset>
          <legend>${t.channel}</legend>
          ${(['sms', 'email'] as const).map(
            (c) =>
              html`<label class="choice"
                ><input
                  type="radio"
                  name="channel"
                  value=${c}
                  checked=${channel === c}
                  onChange=${() => {
                    setChannel(c);
                    setBulk(null);
                    setSingle(null);
                  }}
                />${CHANNEL_NAMES[language][c]}</label
              >`,
          )}
        </fieldset>
        ${
          channel === 'email'
            ? html`<label
                >${t.subject}<input name="subject" required value=${subject} onInput=${edited(setSubject)}
              /></label>`
            : null
        }
        <label
          >${t.messageText}<textarea name="text" rows="4" required value=${text} onInput=${edited(setText)}></textarea>
        </label>
        <p class="hint">${t.placeholdersHint}</p>
        <div class="actions">
          <button type="submit" disabled=${busy}>${t.preview}</button>
          <button type="button" onClick=${props.onClose}>${t.close}</button>
        </div>
      </form>
      ${error ? html`<p class="notice" role="alert">${error}</p>` : null}
      ${sent ? html`<p class="notice ok" role="status">${sent}</p>` : null}
      ${
        single
          ? html`<div class="preview" data-testid="message-preview">
              <h3>${t.previewTitle}</h3>
              <pre class="sample">${single.text}</pre>
              <dl class="facts">
                <dt>${t.channel}</dt>
                <dd>${channelName}</dd>
                ${
                  channel === 'sms'
                    ? html`<dt>${t.smsParts}</dt>
                        <dd>${single.parts}</dd>`
                    : null
                }
                <dt>${t.cost}</dt>
                <dd>${t.creditsOf(single.cost, single.balance)}</dd>
              </dl>
              <div class="actions">
                <button type="button" class="primary" disabled=${busy || single.cost > single.balance} onClick=${send}>
                  ${t.sendNow(channelName)}
                </button>
              </div>
            </div>`
          : null
      }
      ${bulk ? html`<${BulkPreviewView} language=${language} preview=${bulk} channel=${channel} busy=${busy} onSend=${send} />` : null}
      ${
        campaign
          ? html`<p class="notice ok" role="status" data-testid="campaign-status">
              ${t.campaignProgress(
                campaign.recipientCount,
                Object.values(campaign.progress).reduce((sum, p) => sum + p.requested, 0),
                campaign.status === 'completed',
              )}
            </p>`
          : null
      }
    </section>
  `;
}

function BulkPreviewView(props: {
  language: Language;
  preview: BulkPreview;
  channel: 'sms' | 'email';
  busy: boolean;
  onSend: () => void;
}) {
  const { language, preview, channel } = props;
  const t = T[language];
  const figures = preview.channels[channel];
  const recipients = figures?.recipients ?? 0;
  const sample = preview.sample[channel];
  return html`
    <div class="preview" data-testid="message-preview">
      <h3>${t.previewTitle}</h3>
      ${
        sample
          ? html`${sample.subject ? html`<p><strong>${sample.subject}</strong></p>` : null}
              <pre class="sample">${sample.text}</pre>`
          : null
      }
      <dl class="facts">
        <dt>${t.recipients}</dt>
        <dd data-testid="preview-recipients">${recipients}</dd>
        ${
          figures?.parts !== undefined
            ? html`<dt>${t.smsPartsAll}</dt>
                <dd>${figures.parts}</dd>`
            : null
        }
        <dt>${t.cost}</dt>
        <dd data-testid="preview-cost">${t.creditsOf(preview.credits.total, preview.credits.balance)}</dd>
      </dl>
      ${preview.credits.sufficient ? null : html`<p class="notice" role="alert">${t.notEnoughCredits}</p>`}
      ${
        preview.excludedTotal > 0
          ? html`<details>
              <summary>${t.leftOut(preview.excludedTotal)}</summary>
              <ul>
                ${preview.excluded.map((e) => html`<li>${e.name} · ${CHANNEL_NAMES[language][e.channel]} · ${t.reasons[e.reason] ?? e.reason}</li>`)}
              </ul>
            </details>`
          : null
      }
      <div class="actions">
        <button
          type="button"
          class="primary"
          disabled=${props.busy || recipients === 0 || !preview.credits.sufficient}
          onClick=${props.onSend}
        >
          ${t.sendToAll(recipients, CHANNEL_NAMES[language][channel])}
        </button>
      </div>
    </div>
  `;
}

// Waitlists -----------------------------------------------------------------------------------------------------------

type Entry = Schemas['WaitlistEntry'];
type Override = 'skip' | 'remove' | 'offer';

/**
 * What an override does, in the words of the day view's warning: who it concerns and, when it withdraws an open
 * offer, who the freed seat goes to (the first other customer still waiting, on the tenant's policy).
 */
function overrideWarning(t: Texts, list: Schemas['Waitlist'], entry: Entry, action: Override, settings: Settings) {
  const what =
    action === 'offer'
      ? t.overrideOffer(entry.customer.name)
      : action === 'skip'
        ? t.overrideSkip(entry.customer.name)
        : t.overrideRemove(entry.customer.name);
  if (action === 'offer' || entry.status !== 'offered') return what;
  const next = list.entries
    .filter((e) => e.status === 'waiting' && e.entryId !== entry.entryId && e.position !== null)
    .sort((a, b) => (a.position ?? 0) - (b.position ?? 0))[0];
  // The policy in force (admins may read it); staff, who may not, go by the offer being withdrawn: its mode and
  // response window are the policy's for this slot.
  const offer = entry.offer;
  const window = offer?.expiresAt ? (Date.parse(offer.expiresAt) - Date.parse(offer.madeAt)) / 1000 : 0;
  const policy = settings
    ? { ...settings, ...(settings.services?.[list.slot.serviceId] ?? {}) }
    : offer
      ? { enabled: true, mode: offer.mode, responseWindowSeconds: window }
      : null;
  const preview: SeatPreview | null = policy
    ? {
        enabled: policy.enabled,
        mode: policy.mode,
        responseWindowSeconds: policy.responseWindowSeconds,
        next: next ? [{ customerName: next.customer.name, position: next.position ?? 1 }] : [],
      }
    : null;
  return `${what} ${t.overrideFreesSeat} ${warningText(t, preview)}`;
}

type Settings = Schemas['WaitlistSettings'] | null;

function Waitlists({ language, openId, admin }: { language: Language; openId?: string; admin: boolean }) {
  const t = T[language];
  const [lists, setLists] = useState<WaitlistList['items'] | null>(null);
  const [open, setOpen] = useState<Schemas['Waitlist'] | null>(null);
  const [settings, setSettings] = useState<Settings>(null);
  const [asked, setAsked] = useState<{ entry: Entry; action: Override } | null>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const load = async () => {
    const [{ data, error: problem }, policy] = await Promise.all([
      api.GET('/v1/waitlists', { params: { query: {} } }),
      // Only admins may read the policy (the API's rule); staff go by the offers themselves.
      admin ? api.GET('/v1/settings/waitlist', {}) : Promise.resolve({ data: undefined }),
    ]);
    if (data) setLists(data.items);
    else setError(problemText(problem, t.failed));
    setSettings(policy.data ?? null);
  };
  useEffect(() => void load(), []);
  const show = async (waitlistId: string) => {
    const { data, error: problem } = await api.GET('/v1/waitlists/{waitlistId}', { params: { path: { waitlistId } } });
    setOpen(data ?? null);
    if (!data) setError(problemText(problem, t.failed));
  };
  useEffect(() => {
    if (openId) void show(openId);
  }, [openId]);
  const ask = (entry: Entry, action: Override) => {
    setOutcome(null);
    setError(null);
    setReason('');
    setAsked({ entry, action });
  };
  const act = async (event: Event) => {
    event.preventDefault();
    if (!open || !asked) return;
    if (!reason.trim()) return setError(t.reasonNeeded);
    setBusy(true);
    const path = { waitlistId: open.waitlistId, entryId: asked.entry.entryId };
    const body = { reason: reason.trim() };
    const result =
      asked.action === 'skip'
        ? await api.POST('/v1/waitlists/{waitlistId}/entries/{entryId}/skip', { params: { path }, body })
        : asked.action === 'remove'
          ? await api.POST('/v1/waitlists/{waitlistId}/entries/{entryId}/remove', { params: { path }, body })
          : await api.POST('/v1/waitlists/{waitlistId}/entries/{entryId}/offer', { params: { path }, body });
    setBusy(false);
    if (result.error) setError(problemText(result.error, t.failed));
    else {
      setError(null);
      setAsked(null);
      setOutcome(t.done);
    }
    await show(open.waitlistId);
  };
  const verb = (action: Override) => (action === 'offer' ? t.offerNow : action === 'skip' ? t.skip : t.remove);
  return html`
    <h1>${t.tabs.waitlists}</h1>
    ${lists === null ? html`<p class="loading" role="status">${t.loading}</p>` : null}
    <ul>
      ${(lists ?? []).map(
        (w) =>
          html`<li>
            <a class="res button" href=${`#waitlists/${encodeURIComponent(w.waitlistId)}`}>
              ${w.serviceName} · ${dateTime(language, w.start, w.timeZone)} · ${t.waiting(w.waiting)}
            </a>
          </li>`,
      )}
    </ul>
    ${error && !asked ? html`<p class="notice" role="alert">${error}</p>` : null}
    ${outcome ? html`<p class="notice ok" role="status">${outcome}</p>` : null}
    ${
      open
        ? html`<section class="card" aria-labelledby="waitlist-title">
            <h2 id="waitlist-title">
              ${open.slot.serviceName} · ${dateTime(language, open.slot.start, open.slot.location.timeZone)}
            </h2>
            <div class="grid">
              <table>
                <thead>
                  <tr>
                    <th scope="col">${t.position}</th>
                    <th scope="col">${t.customer}</th>
                    <th scope="col">${t.party}</th>
                    <th scope="col">${t.statusCol}</th>
                    <th scope="col">${t.actions}</th>
                  </tr>
                </thead>
                <tbody>
                  ${open.entries.map(
                    (e) =>
                      html`<tr data-entry=${e.customer.name}>
                        <td>${e.position ?? '–'}</td>
                        <td>${e.customer.name}</td>
                        <td>${e.partySize}</td>
                        <td>${e.status}</td>
                        <td>
                          ${
                            e.status === 'waiting' || e.status === 'offered'
                              ? html`<div class="actions">
                                  ${(['offer', 'skip', 'remove'] as const)
                                    .filter((a) => a !== 'offer' || e.status === 'waiting')
                                    .map(
                                      (a) =>
                                        html`<button
                                          type="button"
                                          aria-label=${`${verb(a)}: ${e.customer.name}`}
                                          onClick=${() => ask(e, a)}
                                        >
                                          ${verb(a)}
                                        </button>`,
                                    )}
                                </div>`
                              : null
                          }
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>
            ${
              asked
                ? html`<form class="warning" role="alertdialog" aria-labelledby="override-warning" onSubmit=${act}>
                    <p id="override-warning">
                      <strong>${overrideWarning(t, open, asked.entry, asked.action, settings)}</strong>
                    </p>
                    <label
                      >${t.reason}<input
                        name="reason"
                        required
                        value=${reason}
                        onInput=${(e: Event) => setReason(v(e))}
                    /></label>
                    ${error ? html`<p class="notice" role="alert">${error}</p>` : null}
                    <div class="actions">
                      <button type="submit" class="primary" disabled=${busy}>${verb(asked.action)}</button>
                      <button type="button" onClick=${() => setAsked(null)}>${t.keep}</button>
                    </div>
                  </form>`
                : null
            }
          </section>`
        : null
    }
  `;
}

// Deliveries: KPIs over time, sent SMS, dead letters, credits --------------------------------------------------------

type SeriesPoint = Schemas['DeliverySeries']['points'][number];
type SentSms = Schemas['SentSmsLog']['items'][number];
const SERIES_COLOURS = ['#1a5fb4', '#c64600', '#26734d', '#813d9c'];

function Deliveries({ language }: { language: Language }) {
  const t = T[language];
  const [bucket, setBucket] = useState<'day' | 'hour'>('day');
  const [analytics, setAnalytics] = useState<Schemas['NotificationAnalytics'] | null>(null);
  const [points, setPoints] = useState<SeriesPoint[] | null>(null);
  const [sms, setSms] = useState<SentSms[]>([]);
  const [dead, setDead] = useState<Schemas['Delivery'][]>([]);
  const [credits, setCredits] = useState<{ balance?: number } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const load = async () => {
    // The last 14 local days, or the last 24 hours, up to the end of the current bucket.
    const now = new Date();
    const to =
      bucket === 'day'
        ? new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1)
        : new Date(now.getFullYear(), now.getMonth(), now.getDate(), now.getHours() + 1);
    const from = new Date(to.getTime() - (bucket === 'day' ? 14 * 86_400_000 : 24 * 3_600_000));
    const range = { from: from.toISOString(), to: to.toISOString(), timeZone: zone };
    const [a, series, s, d, c] = await Promise.all([
      api.GET('/v1/analytics/notifications', { params: { query: range } }),
      api.GET('/v1/analytics/deliveries/series', { params: { query: { ...range, bucket } } }),
      api.GET('/v1/sms/sent', { params: { query: {} } }),
      api.GET('/v1/deliveries', { params: { query: { status: 'dead-lettered' } } }),
      api.GET('/v1/credits', {}),
    ]);
    if (a.data) setAnalytics(a.data);
    if (series.data) setPoints(series.data.points);
    if (s.data) setSms(s.data.items);
    if (d.data) setDead(d.data.items);
    if (c.data) setCredits(c.data);
  };
  useEffect(() => void load(), [bucket]);
  const resend = async (notificationId: string) => {
    const { error } = await api.POST('/v1/deliveries/{notificationId}/resend', {
      params: { path: { notificationId } },
    });
    setNotice(error ? problemText(error, t.failed) : t.resent);
    await load();
  };
  const labels = (points ?? []).map((p) => (bucket === 'day' ? p.bucket.slice(5) : p.bucket.slice(11)));
  const channels = Object.keys(points?.[0]?.byChannel ?? {});
  const channelName = (c: string) => CHANNEL_NAMES[language][c as 'email' | 'sms'] ?? c;
  return html`
    <h1>${t.tabs.deliveries}</h1>
    ${notice ? html`<p class="notice ok" role="status">${notice}</p>` : null}
    <label
      >${t.period}<select
        value=${bucket}
        onChange=${(e: Event) => setBucket((e.target as HTMLSelectElement).value as 'day' | 'hour')}
      >
        <option value="day">${t.perDay14}</option>
        <option value="hour">${t.perHour24}</option>
      </select></label
    >
    ${
      analytics && points
        ? html`<section class="card">
            <h2>${bucket === 'day' ? t.kpis : t.kpisHours}</h2>
            <div class="kpis">
              <div class="kpi">${t.deliveryRate}<strong>${pct(analytics.deliveryRatePercent)}</strong></div>
              <div class="kpi">${t.successRate}<strong>${pct(analytics.successPercent)}</strong></div>
              <div class="kpi">
                ${t.timeToProvider}<strong>${ms(analytics.timeToProviderAccepted.averageMs)}</strong>
                <small>p95 ${ms(analytics.timeToProviderAccepted.p95Ms)}</small>
              </div>
              <div class="kpi">${t.sent}<strong>${analytics.accepted} / ${analytics.requested}</strong></div>
            </div>
            <${LineChart}
              id="rates"
              tableLabel=${t.asTable}
              title=${t.chartRates}
              labels=${labels}
              series=${[
                { name: t.deliveryRate, values: points.map((p) => p.deliveryRatePercent) },
                { name: t.successRate, values: points.map((p) => p.successPercent) },
              ]}
            />
            <${LineChart}
              id="time-to-provider"
              tableLabel=${t.asTable}
              title=${t.chartTimeToProvider}
              labels=${labels}
              max=${Math.max(1, ...points.map((p) => p.timeToProviderAccepted.averageMs ?? 0))}
              format=${ms}
              series=${[{ name: t.timeToProvider, values: points.map((p) => p.timeToProviderAccepted.averageMs) }]}
            />
            <${LineChart}
              id="success-per-channel"
              tableLabel=${t.asTable}
              title=${t.chartPerChannel}
              labels=${labels}
              series=${channels.map((c) => ({
                name: channelName(c),
                values: points.map((p) => p.byChannel[c]?.successPercent ?? null),
              }))}
            />
            <h3>${t.perChannel}</h3>
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">${t.channel}</th>
                    <th scope="col">${t.sent}</th>
                    <th scope="col">${t.deliveryRate}</th>
                    <th scope="col">${t.successRate}</th>
                  </tr>
                </thead>
                <tbody>
                  ${Object.entries(analytics.byChannel).map(
                    ([channel, s]) =>
                      html`<tr>
                        <th scope="row">${channelName(channel)}</th>
                        <td>${s.accepted} / ${s.requested}</td>
                        <td>${pct(s.deliveryRatePercent)}</td>
                        <td>${pct(s.successPercent)}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>
          </section>`
        : html`<p class="loading">${t.loading}</p>`
    }
    <section class="card">
      <h2>${t.credits}</h2>
      <p>${t.balance}: <strong>${credits?.balance ?? '–'}</strong></p>
    </section>
    <section class="card">
      <h2>${t.deadLetters}</h2>
      ${dead.length === 0 ? html`<p>${t.none}</p>` : null}
      <ul>
        ${dead.map(
          (d) =>
            html`<li>
              ${kindName(language, d.kind)} · ${CHANNEL_NAMES[language][d.channel]} · ${d.maskedRecipient ?? ''} ·
              ${d.lastError ?? ''} <button type="button" onClick=${() => resend(d.notificationId)}>${t.resend}</button>
            </li>`,
        )}
      </ul>
    </section>
    <section class="card">
      <h2>${t.sentSms}</h2>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">${t.to}</th>
              <th scope="col">${t.kind}</th>
              <th scope="col">${t.smsParts}</th>
              <th scope="col">${t.cost}</th>
              <th scope="col">${t.statusCol}</th>
              <th scope="col">${t.when}</th>
            </tr>
          </thead>
          <tbody>
            ${sms.map(
              (m) =>
                html`<tr>
                  <td>${m.maskedRecipient ?? ''}</td>
                  <td>${kindName(language, m.kind)}</td>
                  <td>${m.parts ?? '–'}</td>
                  <td>${m.cost}</td>
                  <td>${m.status}</td>
                  <td>${dateTime(language, m.sentAt, zone)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </section>
  `;
}

/**
 * An inline SVG line chart (no library, nothing from another origin) with its numbers in a table beneath it, for
 * screen readers and for anyone who wants the figures; each point carries its value and a title. A bucket without
 * data has no point, and the line skips it.
 */
function LineChart(props: {
  id: string;
  title: string;
  labels: string[];
  series: { name: string; values: (number | null)[] }[];
  /** The top of the scale; 100 (per cent) unless given. */
  max?: number;
  format?: (value: number | null) => string;
  /** The summary of the table of the figures. */
  tableLabel: string;
}) {
  const width = 640;
  const height = 220;
  const pad = 40;
  const max = props.max ?? 100;
  const format = props.format ?? pct;
  const n = Math.max(1, props.labels.length - 1);
  const every = Math.max(1, Math.ceil(props.labels.length / 8));
  const x = (i: number) => pad + (i * (width - 2 * pad)) / n;
  const y = (value: number) => height - pad - (value / max) * (height - 2 * pad);
  return html`
    <figure class="chart" data-testid=${`chart-${props.id}`}>
      <figcaption id=${`chart-${props.id}-title`}>${props.title}</figcaption>
      <ul class="legend">
        ${props.series.map(
          (s, i) =>
            html`<li>
              <span class="swatch" style=${{ background: SERIES_COLOURS[i % SERIES_COLOURS.length] }}></span>${s.name}
            </li>`,
        )}
      </ul>
      <svg viewBox=${`0 0 ${width} ${height}`} role="img" aria-labelledby=${`chart-${props.id}-title`}>
        <line class="axis" x1=${pad} y1=${height - pad} x2=${width - pad} y2=${height - pad} />
        <line class="axis" x1=${pad} y1=${pad} x2=${pad} y2=${height - pad} />
        ${[0, max / 2, max].map((v) => html`<text class="label" x="2" y=${y(v) + 4}>${format(v)}</text>`)}
        ${props.labels.map((label, i) =>
          i % every === 0 ? html`<text class="label" x=${x(i) - 14} y=${height - 14}>${label}</text>` : null,
        )}
        ${props.series.map((s, si) => {
          const colour = SERIES_COLOURS[si % SERIES_COLOURS.length];
          // One polyline per run of buckets with data: an empty bucket breaks the line.
          const runs: string[][] = [[]];
          s.values.forEach((value, i) => {
            if (value === null) runs.push([]);
            else runs[runs.length - 1]!.push(`${x(i)},${y(value)}`);
          });
          return html`<g data-series=${s.name}>
            ${runs.filter((r) => r.length > 1).map((r) => html`<polyline points=${r.join(' ')} stroke=${colour} />`)}
            ${s.values.map((value, i) =>
              value === null
                ? null
                : html`<circle
                    cx=${x(i)}
                    cy=${y(value)}
                    r="3.5"
                    fill=${colour}
                    data-label=${props.labels[i]}
                    data-value=${value}
                  >
                    <title>${props.labels[i]} · ${s.name}: ${format(value)}</title>
                  </circle>`,
            )}
          </g>`;
        })}
      </svg>
      <details>
        <summary>${props.tableLabel}</summary>
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col"></th>
                ${props.series.map((s) => html`<th scope="col">${s.name}</th>`)}
              </tr>
            </thead>
            <tbody>
              ${props.labels.map(
                (label, i) =>
                  html`<tr>
                    <th scope="row">${label}</th>
                    ${props.series.map((s) => html`<td>${format(s.values[i] ?? null)}</td>`)}
                  </tr>`,
              )}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  `;
}

// Workflows -----------------------------------------------------------------------------------------------------------

function Workflows({ language }: { language: Language }) {
  const t = T[language];
  const [items, setItems] = useState<Schemas['Workflow'][] | null>(null);
  const [editing, setEditing] = useState<{ id: string; text: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const load = async () => {
    const { data } = await api.GET('/v1/workflows', {});
    setItems(data?.items ?? []);
  };
  useEffect(() => void load(), []);
  const save = async () => {
    if (!editing) return;
    let body: unknown;
    try {
      body = JSON.parse(editing.text);
    } catch {
      return setNotice(t.invalidJson);
    }
    const { error } = await api.PUT('/v1/workflows/{workflowId}', {
      params: { path: { workflowId: editing.id } },
      body: body as never,
    });
    setNotice(error ? problemText(error, t.failed) : t.saved);
    if (!error) setEditing(null);
    await load();
  };
  return html`
    <h1>${t.tabs.workflows}</h1>
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
    <table>
      <thead>
        <tr>
          <th scope="col">${t.name}</th>
          <th scope="col">${t.trigger}</th>
          <th scope="col">${t.channel}</th>
          <th scope="col">${t.enabled}</th>
          <th scope="col"></th>
        </tr>
      </thead>
      <tbody>
        ${(items ?? []).map(
          (w) =>
            html`<tr>
              <td>${w.name}</td>
              <td>${JSON.stringify(w.trigger)}</td>
              <td>${w.channel}</td>
              <td>${w.enabled ? '✓' : '–'}</td>
              <td>
                <button
                  type="button"
                  onClick=${() => {
                    const { workflowId: _id, revision: _r, origin: _o, ...editable } = w as Record<string, unknown>;
                    setEditing({ id: w.workflowId, text: JSON.stringify(editable, null, 2) });
                  }}
                >
                  ${t.edit}
                </button>
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${
      editing
        ? html`<section class="card">
            <label
              >${t.workflowJson}<textarea
                rows="16"
                value=${editing.text}
                onInput=${(e: Event) => setEditing({ ...editing, text: v(e) })}
              ></textarea>
            </label>
            <div class="actions">
              <button type="button" class="primary" onClick=${save}>${t.save}</button
              ><button type="button" onClick=${() => setEditing(null)}>${t.keep}</button>
            </div>
          </section>`
        : null
    }
  `;
}

function pct(value: number | null): string {
  return value === null ? '–' : `${Math.round(value * 10) / 10} %`;
}
function ms(value: number | null): string {
  return value === null ? '–' : value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(1)} s`;
}
function v(event: Event): string {
  return (event.target as HTMLInputElement).value;
}

mount(html`<${App} />`);
