export * from './service-actions';
export * from './service-spec';
