import type { Language } from './format.js';
import { html } from './ui.js';

const NAMES: Record<Language, string> = { en: 'English', cs: 'Čeština', nb: 'Norsk' };
const LABEL: Record<Language, string> = { en: 'Language', cs: 'Jazyk', nb: 'Språk' };

/** A select of the three languages, labelled in the current one. */
export function LanguagePicker({ language, onChange }: { language: Language; onChange: (l: Language) => void }) {
  return html`<label class="language"
    ><span class="visually-hidden">${LABEL[language]}</span>
    <select value=${language} onChange=${(e: Event) => onChange((e.target as HTMLSelectElement).value as Language)}>
      ${(Object.keys(NAMES) as Language[]).map((l) => html`<option value=${l} lang=${l}>${NAMES[l]}</option>`)}
    </select></label
  >`;
}
