import type { Catalogue, TemplateVars } from './catalogue.js';

const at = (v: TemplateVars) => `${v.service}, ${v.whenShort}, ${v.location}`;

export const en: Catalogue = {
  language: 'en',
  labels: {
    service: 'Service',
    when: 'When',
    previous: 'Previously',
    where: 'Where',
    amount: 'Amount',
    offerExpires: 'Offer valid until',
    reservation: 'Reservation',
    customer: 'Customer',
    reason: 'Reason',
    message: 'Message',

    position: 'Place in line',
    claim: 'Take the place or let it go',
    yourPage: 'Your booking — cancel, move, calendar, message settings',
  },
  replyAccept: 'YES',
  replyDecline: 'NO',
  greeting: (name) => `Hello ${name},`,
  staffGreeting: 'Hello,',
  signOff: 'Kind regards,',
  kinds: {
    'reservation-confirmed': {
      title: () => 'Reservation confirmed',
      subject: (v) => `Reservation confirmed: ${v.service}, ${v.whenShort}`,
      intro: () => 'Your reservation is confirmed. We look forward to seeing you.',
      sms: (v) => `${v.sender}: Reservation ${v.code} confirmed: ${at(v)}.`,
      smsCompact: (v) => [
        `${v.sender}: Reservation ${v.code} confirmed: ${v.service}, ${v.whenCompact}, ${v.location}.`,
        `${v.sender}: Reservation ${v.code} confirmed: ${v.service}, ${v.whenCompact}.`,
        `${v.sender}: Booked ${v.code}: ${v.service}, ${v.whenCompact}.`,
      ],
    },
    'reservation-cancelled': {
      title: () => 'Reservation cancelled',
      subject: (v) => `Reservation cancelled: ${v.service}, ${v.whenShort}`,
      intro: (v) =>
        v.cancelledBy === 'customer'
          ? 'Your reservation has been cancelled as you asked.'
          : 'We are sorry, but we have had to cancel your reservation.',
      sms: (v) =>
        v.cancelledBy === 'customer'
          ? `${v.sender}: Reservation ${v.code} (${at(v)}) has been cancelled as you asked.`
          : `${v.sender}: Sorry, we have had to cancel reservation ${v.code} (${at(v)}).`,
    },
    'reservation-declined': {
      title: () => 'Reservation declined',
      subject: (v) => `Reservation declined: ${v.service}, ${v.whenShort}`,
      intro: () => 'We are sorry, but we cannot accept your reservation request.',
      sms: (v) => `${v.sender}: Sorry, reservation ${v.code} (${at(v)}) could not be accepted.`,
    },
    'reservation-rescheduled': {
      title: () => 'Reservation moved',
      subject: (v) => `Reservation moved: ${v.service}, now ${v.whenShort}`,
      intro: () => 'Your reservation has been moved to a new time.',
      sms: (v) => `${v.sender}: Reservation ${v.code} moved from ${v.previousShort} to ${v.whenShort}, ${v.location}.`,
    },
    'payment-received': {
      title: () => 'Payment received',
      subject: (v) => `Payment received: ${v.amount}, ${v.service}`,
      intro: (v) => `Thank you, we have received your payment of ${v.amount}.`,
      sms: (v) => `${v.sender}: Payment of ${v.amount} received for reservation ${v.code} (${at(v)}). Thank you.`,
    },
    'reservation-reminder': {
      title: () => 'Reservation reminder',
      subject: (v) => `Reminder: ${v.service}, ${v.whenShort}`,
      intro: (v) =>
        v.inAdvance
          ? `This is a reminder of your reservation, which starts ${v.inAdvance}.`
          : 'This is a reminder of your upcoming reservation.',
      sms: (v) =>
        `${v.sender}: Reminder: ${v.service}${v.inAdvance ? ` ${v.inAdvance}` : ''}, ${v.whenShort}, ${v.location}. Reservation ${v.code}.`,
    },
    'waitlist-offer': {
      title: () => 'A place is free',
      subject: (v) => `A place is free: ${v.service}, ${v.whenShort}`,
      intro: (v) =>
        `A place you are waiting for has become free. It is held for you until ${v.expires}: take it or let it go with the link below.`,
      sms: (v) =>
        `${v.sender}: A place is free: ${at(v)}. Reply YES by ${v.expiresShort} to take it, NO to let it go, or open ${v.claimUrl}`,
    },
    'waitlist-seat-assigned': {
      title: () => 'You have a place',
      subject: (v) => `You have a place: ${v.service}, ${v.whenShort}`,
      intro: () => 'Good news: a place has become free and it is now booked for you.',
      sms: (v) => `${v.sender}: Good news, a place became free and is booked for you: ${at(v)}. Reservation ${v.code}.`,
    },
    'staff-alert': {
      title: () => 'Staff alert',
      subject: (v) => `Staff alert: ${v.slot ? v.service : `reservation ${v.code}`}, ${v.whenShort}`,
      intro: (v) => v.alert ?? '',
      sms: (v) =>
        `${v.sender} alert: ${v.alert} ${v.slot ? v.service : `Reservation ${v.code}`}, ${v.whenShort}, ${v.location}.`,
    },
    'waitlist-joined': {
      title: () => 'On the waitlist',
      subject: (v) => `You are on the waitlist: ${v.service}, ${v.whenShort}`,
      intro: (v) =>
        `You are number ${v.position} on the waitlist. We will let you know as soon as a place becomes free.`,
      sms: (v) =>
        `${v.sender}: You are number ${v.position} on the waitlist for ${at(v)}. We will tell you if a place becomes free.`,
    },
    'waitlist-offer-expired': {
      title: () => 'Offer expired',
      subject: (v) => `Offer expired: ${v.service}, ${v.whenShort}`,
      intro: () =>
        'The place held for you was not taken in time, so it has been offered to the next person on the waitlist.',
      sms: (v) =>
        `${v.sender}: The place held for you (${at(v)}) was not taken in time and has gone to the next person waiting.`,
    },
    'custom-message': {
      title: () => 'Message',
      subject: (v) => `Message: ${v.service}, ${v.whenShort}`,
      intro: () => 'You have a message about your reservation.',
      sms: (v) => `${v.sender}: Message: ${v.service}, ${v.whenShort}, ${v.location}. Reservation ${v.id}.`,
    },
  },
};
