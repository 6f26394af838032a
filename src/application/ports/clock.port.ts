/** The only source of time outside the domain; the domain receives `now` inside commands. */
export interface Clock {
  now(): Date;
}
