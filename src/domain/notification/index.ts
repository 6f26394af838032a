export * from './kinds.js';
export * from './sms-encoding.js';
export * from './masking.js';
export * from './icalendar.js';
export * from './templates.js';
export * from './delivery.decider.js';
export * from './preferences.js';
export * from './credits.js';
