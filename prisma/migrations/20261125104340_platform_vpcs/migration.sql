-- CreateTable
CREATE TABLE "PlatformVpc" (
    "id" TEXT NOT NULL,
    "ingressClassName" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "PlatformVpc_pkey" PRIMARY KEY ("id")
);
