/** Schema migrations of the stores: numbered files applied in order under a lock. */
export {
  type Migration,
  type MigrationTarget,
  loadMigrations,
  runMigrations,
  splitStatements,
} from './sql-migrations.js';
