export * from './json-schema';
export * from './model';
export * from './pattern';
export * from './validate';
export * from './service-spec';
export * from './stored-shapes';
