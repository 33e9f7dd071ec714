export * from './custom-domain.service';
