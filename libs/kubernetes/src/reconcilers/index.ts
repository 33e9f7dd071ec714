export { CustomDomainReconciler } from './custom-domain.reconciler';
export { platformSettings, ReconcilerSettings } from './reconciler-settings';
export { ServiceInputs, type InputOptions, type SecretSource } from './service-inputs';
export { APPLIED_SET, FAILURE_REASON, ownedBy, ROLLBACK_OF, ServiceObjects, type ServiceObjectsInput } from './service-objects';
export { ServiceReconciler } from './service.reconciler';
export { TenantNamespaceReconciler } from './tenant-namespace.reconciler';
export { VpcIngressConnectionReconciler } from './vpc-ingress-connection.reconciler';
