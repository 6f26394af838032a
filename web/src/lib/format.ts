export type Language = 'en' | 'cs' | 'nb';

export function languageOf(tag: string | undefined | null): Language {
  const primary = (tag ?? '').trim().toLowerCase().split(/[-_]/)[0];
  if (primary === 'cs') return 'cs';
  if (primary === 'nb' || primary === 'no' || primary === 'nn') return 'nb';
  return 'en';
}

const INTL: Record<Language, string> = { en: 'en-GB', cs: 'cs-CZ', nb: 'nb-NO' };

export function intlLocale(language: Language): string {
  return INTL[language];
}

/** "Tue 3 June 2031, 10:00" in the place's zone. */
export function dateTime(language: Language, iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat(INTL[language], {
    weekday: 'short',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZone,
  }).format(new Date(iso));
}

export function time(language: Language, iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat(INTL[language], { hour: '2-digit', minute: '2-digit', timeZone }).format(
    new Date(iso),
  );
}

export function day(language: Language, iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat(INTL[language], { weekday: 'long', day: 'numeric', month: 'long', timeZone }).format(
    new Date(iso),
  );
}

/** YYYY-MM-DD of an instant in a zone. */
export function dateKey(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone }).format(
    new Date(iso),
  );
}

/** Today's date (YYYY-MM-DD) in the browser's zone, `plusDays` later. */
export function isoDate(plusDays = 0, from = new Date()): string {
  const d = new Date(from.getTime() + plusDays * 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** The instant of local midnight of a YYYY-MM-DD date in the browser's zone. */
export function startOfDate(date: string): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(y!, m! - 1, d!).toISOString();
}
