-- AlterTable
ALTER TABLE "runner" ADD COLUMN     "isolation" TEXT NOT NULL DEFAULT '{}';
