export * from './kube-client';
export * from './reconcilers';
export * from './resync.service';
export * from './rollout';
export * from './manifests';
export * from './secret-refs';
export * from './image-poller';
