-- AlterTable
ALTER TABLE "Connection" ADD COLUMN     "installationId" BIGINT,
ADD COLUMN     "providerAccount" TEXT,
ADD COLUMN     "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- AlterTable
ALTER TABLE "Operation" ADD COLUMN     "image" TEXT,
ADD COLUMN     "sourceCommit" TEXT,
ADD COLUMN     "trigger" TEXT NOT NULL DEFAULT 'api';

-- AlterTable
ALTER TABLE "Service" ADD COLUMN     "deployedCommit" TEXT,
ADD COLUMN     "deployedImage" TEXT,
ADD COLUMN     "deployedImageConfiguration" JSONB,
ADD COLUMN     "pendingDeployment" JSONB;

-- CreateTable
CREATE TABLE "Build" (
    "id" UUID NOT NULL,
    "operationId" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "serviceId" UUID NOT NULL,
    "status" TEXT NOT NULL,
    "commit" TEXT,
    "image" TEXT,
    "imageConfiguration" JSONB,
    "reason" TEXT,
    "logSeq" INTEGER NOT NULL DEFAULT 0,
    "startedAt" TIMESTAMPTZ(3),
    "endedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Build_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BuildLogChunk" (
    "buildId" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "text" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BuildLogChunk_pkey" PRIMARY KEY ("buildId","seq")
);

-- CreateTable
CREATE TABLE "WebhookDelivery" (
    "source" TEXT NOT NULL,
    "deliveryId" TEXT NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WebhookDelivery_pkey" PRIMARY KEY ("source","deliveryId")
);

-- CreateTable
CREATE TABLE "ImageWatch" (
    "serviceId" UUID NOT NULL,
    "digest" TEXT,
    "checkedAt" TIMESTAMPTZ(3),
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ImageWatch_pkey" PRIMARY KEY ("serviceId")
);

-- CreateIndex
CREATE UNIQUE INDEX "Build_operationId_key" ON "Build"("operationId");

-- CreateIndex
CREATE INDEX "Build_serviceId_createdAt_idx" ON "Build"("serviceId", "createdAt");

-- CreateIndex
CREATE INDEX "WebhookDelivery_receivedAt_idx" ON "WebhookDelivery"("receivedAt");

-- CreateIndex
CREATE INDEX "Connection_installationId_idx" ON "Connection"("installationId");

-- AddForeignKey
ALTER TABLE "Build" ADD CONSTRAINT "Build_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BuildLogChunk" ADD CONSTRAINT "BuildLogChunk_buildId_fkey" FOREIGN KEY ("buildId") REFERENCES "Build"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ImageWatch" ADD CONSTRAINT "ImageWatch_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service"("id") ON DELETE CASCADE ON UPDATE CASCADE;
