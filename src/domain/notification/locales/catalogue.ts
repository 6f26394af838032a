/** The shape of one language's standard texts. Values arrive already formatted for the recipient's locale. */

export type Language = 'en' | 'cs' | 'nb';

export interface TemplateVars {
  readonly id: string;
  /** What the customer reads as the reservation's reference: its short code, or its id when it has none. */
  readonly code: string;
  readonly customer: string;
  readonly service: string;
  readonly location: string;
  readonly sender: string;
  /** Start-end range, long form, with the zone abbreviation. */
  readonly when: string;
  /** Start only, short form, with the zone abbreviation (SMS, subjects). */
  readonly whenShort: string;
  /** Start only, day, month and time, no weekday or zone (compact SMS variants). */
  readonly whenCompact: string;
  readonly previous?: string;
  readonly previousShort?: string;
  readonly amount?: string;
  readonly expires?: string;
  readonly expiresShort?: string;
  /** "in 3 hours" / "za 3 hodiny" / "om 3 timer". */
  readonly inAdvance?: string;
  readonly cancelledBy?: 'customer' | 'staff';
  readonly alert?: string;
  /** A staff alert about a slot (a waitlist), not one reservation: named by its service, with no reservation code. */
  readonly slot?: boolean;
  /** Place in the waitlist's line (1 = next). */
  readonly position?: string;
  /** The signed link of a waitlist offer's claim page. */
  readonly claimUrl?: string;
}

export interface KindTexts {
  /** Short name of the event, also used in messages to staff. */
  title(v: TemplateVars): string;
  subject(v: TemplateVars): string;
  /** The customer's first paragraph, after the greeting. */
  intro(v: TemplateVars): string;
  /** One concise line. */
  sms(v: TemplateVars): string;
  /**
   * Shorter wordings of `sms`, fullest first, for when it takes more than one part (a long name, or UCS-2 at 70
   * characters a part): the first that takes fewer parts is sent. The code and the time always stay.
   */
  smsCompact?(v: TemplateVars): string[];
}

export interface Catalogue {
  readonly language: Language;
  readonly labels: {
    readonly service: string;
    readonly when: string;
    readonly previous: string;
    readonly where: string;
    readonly amount: string;
    readonly offerExpires: string;
    readonly reservation: string;
    readonly customer: string;
    readonly reason: string;
    readonly message: string;
    readonly position: string;
    /** The label of a waitlist offer's link (email button, page). */
    readonly claim: string;
    /** The label of the link to the customer's own page. */
    readonly yourPage: string;
  };
  /** The word a customer texts back to take an offered seat, and the one to let it go (YES/ANO/JA, NO/NE/NEI). */
  readonly replyAccept: string;
  readonly replyDecline: string;
  greeting(name: string): string;
  readonly staffGreeting: string;
  readonly signOff: string;
  readonly kinds: {
    readonly 'reservation-confirmed': KindTexts;
    readonly 'reservation-cancelled': KindTexts;
    readonly 'reservation-declined': KindTexts;
    readonly 'reservation-rescheduled': KindTexts;
    readonly 'payment-received': KindTexts;
    readonly 'reservation-reminder': KindTexts;
    readonly 'waitlist-offer': KindTexts;
    readonly 'waitlist-seat-assigned': KindTexts;
    readonly 'staff-alert': KindTexts;
    readonly 'waitlist-joined': KindTexts;
    readonly 'waitlist-offer-expired': KindTexts;
    readonly 'custom-message': KindTexts;
  };
}
