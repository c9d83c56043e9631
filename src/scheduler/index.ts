export * from './types.js';
export * from './filters.js';
export * from './weighers.js';
export * from './schedule.js';
export { selectorMatches } from './selector.js';
