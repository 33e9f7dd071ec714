-- CreateEnum
CREATE TYPE "CredentialKind" AS ENUM ('ACCESS_KEY', 'API_KEY');

-- CreateTable
CREATE TABLE "Tenant" (
    "id" UUID NOT NULL,
    "accountId" CHAR(12) NOT NULL,
    "name" TEXT NOT NULL,
    "quotaOverrides" JSONB NOT NULL DEFAULT '{}',
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Tenant_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Credential" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "kind" "CredentialKind" NOT NULL,
    "keyId" TEXT NOT NULL,
    "secretCiphertext" BYTEA,
    "secretHash" TEXT,
    "description" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Credential_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Service" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "serviceId" CHAR(32) NOT NULL,
    "serviceName" TEXT NOT NULL,
    "activeName" TEXT,
    "arn" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "urlHost" TEXT NOT NULL,
    "spec" JSONB NOT NULL,
    "generation" INTEGER NOT NULL DEFAULT 1,
    "autoScalingConfigurationId" UUID NOT NULL,
    "observabilityConfigurationId" UUID,
    "vpcConnectorId" UUID,
    "connectionId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    "deletedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Service_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Connection" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "connectionName" TEXT NOT NULL,
    "activeName" TEXT,
    "arn" TEXT NOT NULL,
    "providerType" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deletedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Connection_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AutoScalingConfiguration" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "revision" INTEGER NOT NULL,
    "arn" TEXT NOT NULL,
    "maxConcurrency" INTEGER NOT NULL,
    "minSize" INTEGER NOT NULL,
    "maxSize" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "isDefault" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deletedAt" TIMESTAMPTZ(3),

    CONSTRAINT "AutoScalingConfiguration_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ObservabilityConfiguration" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "revision" INTEGER NOT NULL,
    "arn" TEXT NOT NULL,
    "traceVendor" TEXT,
    "status" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deletedAt" TIMESTAMPTZ(3),

    CONSTRAINT "ObservabilityConfiguration_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "VpcConnector" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "revision" INTEGER NOT NULL,
    "arn" TEXT NOT NULL,
    "subnets" TEXT[],
    "securityGroups" TEXT[],
    "status" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deletedAt" TIMESTAMPTZ(3),

    CONSTRAINT "VpcConnector_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "VpcIngressConnection" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "activeName" TEXT,
    "arn" TEXT NOT NULL,
    "serviceId" UUID NOT NULL,
    "vpcId" TEXT NOT NULL,
    "vpcEndpointId" TEXT NOT NULL,
    "domainName" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deletedAt" TIMESTAMPTZ(3),

    CONSTRAINT "VpcIngressConnection_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CustomDomain" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "serviceId" UUID NOT NULL,
    "domainName" TEXT NOT NULL,
    "enableWWWSubdomain" BOOLEAN NOT NULL,
    "status" TEXT NOT NULL,
    "certificateValidationRecords" JSONB NOT NULL DEFAULT '[]',
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "CustomDomain_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Operation" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "serviceId" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "targetArn" TEXT NOT NULL,
    "generation" INTEGER NOT NULL,
    "fromStatus" TEXT NOT NULL,
    "rollbackSpec" JSONB,
    "errorMessage" TEXT,
    "enqueuedAt" TIMESTAMPTZ(3),
    "startedAt" TIMESTAMPTZ(3),
    "endedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Operation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Tag" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "resourceArn" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,

    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditRecord" (
    "id" BIGSERIAL NOT NULL,
    "tenantId" UUID,
    "principal" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "resourceArn" TEXT,
    "request" JSONB NOT NULL,
    "outcome" TEXT NOT NULL,
    "requestId" TEXT NOT NULL,
    "sourceIp" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AuditRecord_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Tenant_accountId_key" ON "Tenant"("accountId");

-- CreateIndex
CREATE UNIQUE INDEX "Tenant_name_key" ON "Tenant"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Credential_keyId_key" ON "Credential"("keyId");

-- CreateIndex
CREATE INDEX "Credential_tenantId_idx" ON "Credential"("tenantId");

-- CreateIndex
CREATE UNIQUE INDEX "Service_serviceId_key" ON "Service"("serviceId");

-- CreateIndex
CREATE UNIQUE INDEX "Service_arn_key" ON "Service"("arn");

-- CreateIndex
CREATE INDEX "Service_tenantId_createdAt_id_idx" ON "Service"("tenantId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "Service_autoScalingConfigurationId_idx" ON "Service"("autoScalingConfigurationId");

-- CreateIndex
CREATE UNIQUE INDEX "Service_tenantId_activeName_key" ON "Service"("tenantId", "activeName");

-- CreateIndex
CREATE UNIQUE INDEX "Connection_arn_key" ON "Connection"("arn");

-- CreateIndex
CREATE INDEX "Connection_tenantId_createdAt_id_idx" ON "Connection"("tenantId", "createdAt", "id");

-- CreateIndex
CREATE UNIQUE INDEX "Connection_tenantId_activeName_key" ON "Connection"("tenantId", "activeName");

-- CreateIndex
CREATE UNIQUE INDEX "AutoScalingConfiguration_arn_key" ON "AutoScalingConfiguration"("arn");

-- CreateIndex
CREATE INDEX "AutoScalingConfiguration_tenantId_status_name_idx" ON "AutoScalingConfiguration"("tenantId", "status", "name");

-- CreateIndex
CREATE UNIQUE INDEX "AutoScalingConfiguration_tenantId_name_revision_key" ON "AutoScalingConfiguration"("tenantId", "name", "revision");

-- CreateIndex
CREATE UNIQUE INDEX "ObservabilityConfiguration_arn_key" ON "ObservabilityConfiguration"("arn");

-- CreateIndex
CREATE INDEX "ObservabilityConfiguration_tenantId_status_name_idx" ON "ObservabilityConfiguration"("tenantId", "status", "name");

-- CreateIndex
CREATE UNIQUE INDEX "ObservabilityConfiguration_tenantId_name_revision_key" ON "ObservabilityConfiguration"("tenantId", "name", "revision");

-- CreateIndex
CREATE UNIQUE INDEX "VpcConnector_arn_key" ON "VpcConnector"("arn");

-- CreateIndex
CREATE INDEX "VpcConnector_tenantId_status_name_idx" ON "VpcConnector"("tenantId", "status", "name");

-- CreateIndex
CREATE UNIQUE INDEX "VpcConnector_tenantId_name_revision_key" ON "VpcConnector"("tenantId", "name", "revision");

-- CreateIndex
CREATE UNIQUE INDEX "VpcIngressConnection_arn_key" ON "VpcIngressConnection"("arn");

-- CreateIndex
CREATE INDEX "VpcIngressConnection_tenantId_createdAt_id_idx" ON "VpcIngressConnection"("tenantId", "createdAt", "id");

-- CreateIndex
CREATE UNIQUE INDEX "VpcIngressConnection_tenantId_activeName_key" ON "VpcIngressConnection"("tenantId", "activeName");

-- CreateIndex
CREATE INDEX "CustomDomain_tenantId_idx" ON "CustomDomain"("tenantId");

-- CreateIndex
CREATE UNIQUE INDEX "CustomDomain_serviceId_domainName_key" ON "CustomDomain"("serviceId", "domainName");

-- CreateIndex
CREATE INDEX "Operation_serviceId_createdAt_idx" ON "Operation"("serviceId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "Operation_status_enqueuedAt_idx" ON "Operation"("status", "enqueuedAt");

-- CreateIndex
CREATE INDEX "Tag_tenantId_idx" ON "Tag"("tenantId");

-- CreateIndex
CREATE UNIQUE INDEX "Tag_resourceArn_key_key" ON "Tag"("resourceArn", "key");

-- CreateIndex
CREATE INDEX "AuditRecord_tenantId_createdAt_idx" ON "AuditRecord"("tenantId", "createdAt");

-- AddForeignKey
ALTER TABLE "Credential" ADD CONSTRAINT "Credential_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Service" ADD CONSTRAINT "Service_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Service" ADD CONSTRAINT "Service_autoScalingConfigurationId_fkey" FOREIGN KEY ("autoScalingConfigurationId") REFERENCES "AutoScalingConfiguration"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Service" ADD CONSTRAINT "Service_observabilityConfigurationId_fkey" FOREIGN KEY ("observabilityConfigurationId") REFERENCES "ObservabilityConfiguration"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Service" ADD CONSTRAINT "Service_vpcConnectorId_fkey" FOREIGN KEY ("vpcConnectorId") REFERENCES "VpcConnector"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Service" ADD CONSTRAINT "Service_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Connection" ADD CONSTRAINT "Connection_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AutoScalingConfiguration" ADD CONSTRAINT "AutoScalingConfiguration_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ObservabilityConfiguration" ADD CONSTRAINT "ObservabilityConfiguration_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "VpcConnector" ADD CONSTRAINT "VpcConnector_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "VpcIngressConnection" ADD CONSTRAINT "VpcIngressConnection_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "VpcIngressConnection" ADD CONSTRAINT "VpcIngressConnection_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CustomDomain" ADD CONSTRAINT "CustomDomain_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CustomDomain" ADD CONSTRAINT "CustomDomain_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Operation" ADD CONSTRAINT "Operation_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Operation" ADD CONSTRAINT "Operation_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Tag" ADD CONSTRAINT "Tag_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AuditRecord" ADD CONSTRAINT "AuditRecord_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE SET NULL ON UPDATE CASCADE;
