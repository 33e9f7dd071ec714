export * from './service.service';
export * from './service-spec';
