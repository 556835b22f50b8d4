export * from './types';
export * from './errors';
export * from './changes';
export * from './murmur3';
export * from './operators';
export * from './pattern';
export * from './validation';
export * from './engine';
