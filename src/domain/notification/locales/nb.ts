import type { Catalogue, TemplateVars } from './catalogue.js';

const at = (v: TemplateVars) => `${v.service}, ${v.whenShort}, ${v.location}`;

export const nb: Catalogue = {
  language: 'nb',
  labels: {
    service: 'Tjeneste',
    when: 'Tidspunkt',
    previous: 'Tidligere tidspunkt',
    where: 'Sted',
    amount: 'Beløp',
    offerExpires: 'Tilbudet gjelder til',
    reservation: 'Reservasjon',
    customer: 'Kunde',
    reason: 'Årsak',
    message: 'Melding',

    position: 'Plass i køen',
    claim: 'Ta plassen eller si fra deg den',
    yourPage: 'Din bestilling — avbestill, flytt, kalender, meldingsvalg',
  },
  replyAccept: 'JA',
  replyDecline: 'NEI',
  greeting: (name) => `Hei ${name},`,
  staffGreeting: 'Hei,',
  signOff: 'Med vennlig hilsen',
  kinds: {
    'reservation-confirmed': {
      title: () => 'Reservasjon bekreftet',
      subject: (v) => `Reservasjon bekreftet: ${v.service}, ${v.whenShort}`,
      intro: () => 'Reservasjonen din er bekreftet. Vi gleder oss til å se deg.',
      sms: (v) => `${v.sender}: Reservasjon ${v.code} er bekreftet: ${at(v)}.`,
      smsCompact: (v) => [
        `${v.sender}: Reservasjon ${v.code} er bekreftet: ${v.service}, ${v.whenCompact}, ${v.location}.`,
        `${v.sender}: Reservasjon ${v.code} er bekreftet: ${v.service}, ${v.whenCompact}.`,
        `${v.sender}: Bekreftet ${v.code}: ${v.service}, ${v.whenCompact}.`,
      ],
    },
    'reservation-cancelled': {
      title: () => 'Reservasjon avbestilt',
      subject: (v) => `Reservasjon avbestilt: ${v.service}, ${v.whenShort}`,
      intro: (v) =>
        v.cancelledBy === 'customer'
          ? 'Reservasjonen din er avbestilt slik du ba om.'
          : 'Vi beklager, men vi har dessverre måttet avlyse reservasjonen din.',
      sms: (v) =>
        v.cancelledBy === 'customer'
          ? `${v.sender}: Reservasjon ${v.code} (${at(v)}) er avbestilt slik du ba om.`
          : `${v.sender}: Vi beklager, reservasjon ${v.code} (${at(v)}) er dessverre avlyst.`,
    },
    'reservation-declined': {
      title: () => 'Reservasjon avslått',
      subject: (v) => `Reservasjon avslått: ${v.service}, ${v.whenShort}`,
      intro: () => 'Vi beklager, men vi kan dessverre ikke ta imot reservasjonsforespørselen din.',
      sms: (v) => `${v.sender}: Beklager, reservasjon ${v.code} (${at(v)}) kunne ikke godtas.`,
    },
    'reservation-rescheduled': {
      title: () => 'Reservasjon flyttet',
      subject: (v) => `Reservasjon flyttet: ${v.service}, nå ${v.whenShort}`,
      intro: () => 'Reservasjonen din er flyttet til et nytt tidspunkt.',
      sms: (v) =>
        `${v.sender}: Reservasjon ${v.code} er flyttet fra ${v.previousShort} til ${v.whenShort}, ${v.location}.`,
    },
    'payment-received': {
      title: () => 'Betaling mottatt',
      subject: (v) => `Betaling mottatt: ${v.amount}, ${v.service}`,
      intro: (v) => `Takk! Vi har mottatt betalingen din på ${v.amount}.`,
      sms: (v) => `${v.sender}: Betaling på ${v.amount} mottatt for reservasjon ${v.code} (${at(v)}). Takk!`,
    },
    'reservation-reminder': {
      title: () => 'Påminnelse om reservasjon',
      subject: (v) => `Påminnelse: ${v.service}, ${v.whenShort}`,
      intro: (v) =>
        v.inAdvance
          ? `Dette er en påminnelse om reservasjonen din, som starter ${v.inAdvance}.`
          : 'Dette er en påminnelse om den kommende reservasjonen din.',
      sms: (v) =>
        `${v.sender}: Påminnelse: ${v.service}${v.inAdvance ? ` ${v.inAdvance}` : ''}, ${v.whenShort}, ${v.location}. Reservasjon ${v.code}.`,
    },
    'waitlist-offer': {
      title: () => 'Ledig plass',
      subject: (v) => `Ledig plass: ${v.service}, ${v.whenShort}`,
      intro: (v) =>
        `Det har blitt ledig en plass som du står på venteliste for. Den holdes av til deg til ${v.expires}: ta den eller si fra deg den med lenken nedenfor.`,
      sms: (v) =>
        `${v.sender}: Ledig plass: ${at(v)}. Svar JA innen ${v.expiresShort} for å ta den, NEI for å si fra deg den, eller åpne ${v.claimUrl}`,
    },
    'waitlist-seat-assigned': {
      title: () => 'Du har fått plass',
      subject: (v) => `Du har fått plass: ${v.service}, ${v.whenShort}`,
      intro: () => 'Gode nyheter: det har blitt ledig en plass, og den er nå reservert til deg.',
      sms: (v) =>
        `${v.sender}: Gode nyheter, en plass ble ledig og er reservert til deg: ${at(v)}. Reservasjon ${v.code}.`,
    },
    'staff-alert': {
      title: () => 'Varsel til personalet',
      subject: (v) => `Varsel: ${v.slot ? v.service : `reservasjon ${v.code}`}, ${v.whenShort}`,
      intro: (v) => v.alert ?? '',
      sms: (v) =>
        `${v.sender} varsel: ${v.alert} ${v.slot ? v.service : `Reservasjon ${v.code}`}, ${v.whenShort}, ${v.location}.`,
    },
    'waitlist-joined': {
      title: () => 'Du står på ventelisten',
      subject: (v) => `Du står på ventelisten: ${v.service}, ${v.whenShort}`,
      intro: (v) => `Du er nummer ${v.position} på ventelisten. Vi gir beskjed så snart en plass blir ledig.`,
      sms: (v) =>
        `${v.sender}: Du er nummer ${v.position} på ventelisten for ${at(v)}. Vi gir beskjed hvis en plass blir ledig.`,
    },
    'waitlist-offer-expired': {
      title: () => 'Tilbudet har utløpt',
      subject: (v) => `Tilbudet har utløpt: ${v.service}, ${v.whenShort}`,
      intro: () => 'Plassen vi holdt av til deg, ble ikke tatt i tide og er tilbudt neste på ventelisten.',
      sms: (v) => `${v.sender}: Plassen (${at(v)}) ble ikke tatt i tide og har gått videre til neste på ventelisten.`,
    },
    'custom-message': {
      title: () => 'Melding',
      subject: (v) => `Melding: ${v.service}, ${v.whenShort}`,
      intro: () => 'Du har en melding om reservasjonen din.',
      sms: (v) => `${v.sender}: Melding: ${v.service}, ${v.whenShort}, ${v.location}. Reservasjon ${v.id}.`,
    },
  },
};
