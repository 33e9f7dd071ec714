export * from './custom-domain.service';
export * from './validation-records';
