/** The instance-type catalog: data, loader and queries. */
export * from './instance-type.js';
export * from './catalog.js';
