-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_runner" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "isolation" TEXT NOT NULL DEFAULT '{}',
    "lastHeartbeatAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO "new_runner" ("createdAt", "id", "kind", "lastHeartbeatAt", "name") SELECT "createdAt", "id", "kind", "lastHeartbeatAt", "name" FROM "runner";
DROP TABLE "runner";
ALTER TABLE "new_runner" RENAME TO "runner";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
