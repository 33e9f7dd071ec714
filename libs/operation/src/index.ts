export * from './operation.runner';
export * from './operation.service';
export * from './operation.transitions';
export * from './reconcile-snapshots';
export * from './reconciler.contract';
