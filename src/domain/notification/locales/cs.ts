import type { Catalogue, TemplateVars } from './catalogue.js';

const at = (v: TemplateVars) => `${v.service}, ${v.whenShort}, ${v.location}`;

// Czech greets without the name: addressing someone by name needs the vocative, which cannot be derived safely.
export const cs: Catalogue = {
  language: 'cs',
  labels: {
    service: 'Služba',
    when: 'Termín',
    previous: 'Původní termín',
    where: 'Místo',
    amount: 'Částka',
    offerExpires: 'Nabídka platí do',
    reservation: 'Rezervace',
    customer: 'Zákazník',
    reason: 'Důvod',
    message: 'Zpráva',

    position: 'Pořadí',
    claim: 'Přijmout nebo odmítnout místo',
    yourPage: 'Vaše rezervace — zrušit, přesunout, kalendář, nastavení zpráv',
  },
  replyAccept: 'ANO',
  replyDecline: 'NE',
  greeting: () => 'Dobrý den,',
  staffGreeting: 'Dobrý den,',
  signOff: 'S pozdravem',
  kinds: {
    'reservation-confirmed': {
      title: () => 'Rezervace potvrzena',
      subject: (v) => `Rezervace potvrzena: ${v.service}, ${v.whenShort}`,
      intro: () => 'vaše rezervace je potvrzena. Těšíme se na vás.',
      sms: (v) => `${v.sender}: Rezervace ${v.code} potvrzena: ${at(v)}.`,
      smsCompact: (v) => [
        `${v.sender}: Rezervace ${v.code} potvrzena: ${v.service}, ${v.whenCompact}, ${v.location}.`,
        `${v.sender}: Rezervace ${v.code} potvrzena: ${v.service}, ${v.whenCompact}.`,
        `${v.sender}: Potvrzeno ${v.code}: ${v.service}, ${v.whenCompact}.`,
      ],
    },
    'reservation-cancelled': {
      title: () => 'Rezervace zrušena',
      subject: (v) => `Rezervace zrušena: ${v.service}, ${v.whenShort}`,
      intro: (v) =>
        v.cancelledBy === 'customer'
          ? 'vaše rezervace byla na vaši žádost zrušena.'
          : 'je nám líto, ale vaši rezervaci jsme museli zrušit.',
      sms: (v) =>
        v.cancelledBy === 'customer'
          ? `${v.sender}: Rezervace ${v.code} (${at(v)}) byla na vaši žádost zrušena.`
          : `${v.sender}: Je nám líto, rezervaci ${v.code} (${at(v)}) jsme museli zrušit.`,
    },
    'reservation-declined': {
      title: () => 'Rezervace zamítnuta',
      subject: (v) => `Rezervace zamítnuta: ${v.service}, ${v.whenShort}`,
      intro: () => 'je nám líto, ale vaši žádost o rezervaci nemůžeme přijmout.',
      sms: (v) => `${v.sender}: Je nám líto, rezervaci ${v.code} (${at(v)}) nelze přijmout.`,
    },
    'reservation-rescheduled': {
      title: () => 'Rezervace přesunuta',
      subject: (v) => `Rezervace přesunuta: ${v.service}, nově ${v.whenShort}`,
      intro: () => 'vaše rezervace byla přesunuta na nový termín.',
      sms: (v) => `${v.sender}: Rezervace ${v.code} přesunuta z ${v.previousShort} na ${v.whenShort}, ${v.location}.`,
    },
    'payment-received': {
      title: () => 'Platba přijata',
      subject: (v) => `Platba přijata: ${v.amount}, ${v.service}`,
      intro: (v) => `děkujeme, přijali jsme vaši platbu ${v.amount}.`,
      sms: (v) => `${v.sender}: Přijali jsme platbu ${v.amount} za rezervaci ${v.code} (${at(v)}). Děkujeme.`,
    },
    'reservation-reminder': {
      title: () => 'Připomínka rezervace',
      subject: (v) => `Připomínka: ${v.service}, ${v.whenShort}`,
      intro: (v) =>
        v.inAdvance
          ? `připomínáme vaši rezervaci, která začíná ${v.inAdvance}.`
          : 'připomínáme vaši blížící se rezervaci.',
      sms: (v) =>
        `${v.sender}: Připomínka: ${v.service}${v.inAdvance ? ` ${v.inAdvance}` : ''}, ${v.whenShort}, ${v.location}. Rezervace ${v.code}.`,
    },
    'waitlist-offer': {
      title: () => 'Uvolnilo se místo',
      subject: (v) => `Uvolnilo se místo: ${v.service}, ${v.whenShort}`,
      intro: (v) =>
        `uvolnilo se místo, na které čekáte. Držíme ho pro vás do ${v.expires}: odkazem níže ho přijmete, nebo ho přenecháte dalším.`,
      sms: (v) =>
        `${v.sender}: Uvolnilo se místo: ${at(v)}. Odpovězte ANO do ${v.expiresShort}, chcete-li ho, NE pro odmítnutí, nebo otevřete ${v.claimUrl}`,
    },
    'waitlist-seat-assigned': {
      title: () => 'Máte místo',
      subject: (v) => `Máte místo: ${v.service}, ${v.whenShort}`,
      intro: () => 'dobrá zpráva: uvolnilo se místo a je nyní rezervováno pro vás.',
      sms: (v) =>
        `${v.sender}: Dobrá zpráva, uvolnilo se místo a je rezervováno pro vás: ${at(v)}. Rezervace ${v.code}.`,
    },
    'staff-alert': {
      title: () => 'Upozornění pro personál',
      subject: (v) => `Upozornění: ${v.slot ? v.service : `rezervace ${v.code}`}, ${v.whenShort}`,
      intro: (v) => v.alert ?? '',
      sms: (v) =>
        `${v.sender} – upozornění: ${v.alert} ${v.slot ? v.service : `Rezervace ${v.code}`}, ${v.whenShort}, ${v.location}.`,
    },
    'waitlist-joined': {
      title: () => 'Jste na čekací listině',
      subject: (v) => `Jste na čekací listině: ${v.service}, ${v.whenShort}`,
      intro: (v) => `jste ${v.position}. na čekací listině. Jakmile se uvolní místo, dáme vám vědět.`,
      sms: (v) =>
        `${v.sender}: Jste ${v.position}. na čekací listině na ${at(v)}. Když se uvolní místo, dáme vám vědět.`,
    },
    'waitlist-offer-expired': {
      title: () => 'Nabídka vypršela',
      subject: (v) => `Nabídka vypršela: ${v.service}, ${v.whenShort}`,
      intro: () => 'místo, které jsme pro vás drželi, nebylo včas přijato, a proto jsme ho nabídli dalšímu čekajícímu.',
      sms: (v) => `${v.sender}: Místo (${at(v)}) nebylo včas přijato a přešlo na dalšího čekajícího.`,
    },
    'custom-message': {
      title: () => 'Zpráva',
      subject: (v) => `Zpráva: ${v.service}, ${v.whenShort}`,
      intro: () => 'máte zprávu k vaší rezervaci.',
      sms: (v) => `${v.sender}: Zpráva: ${v.service}, ${v.whenShort}, ${v.location}. Rezervace ${v.id}.`,
    },
  },
};
