-- CreateTable
CREATE TABLE "TenantTombstone" (
    "accountId" CHAR(12) NOT NULL,
    "deletedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "cleanedAt" TIMESTAMPTZ(3),

    CONSTRAINT "TenantTombstone_pkey" PRIMARY KEY ("accountId")
);

-- CreateIndex
CREATE INDEX "TenantTombstone_cleanedAt_idx" ON "TenantTombstone"("cleanedAt");
