export * from './tag.service';
