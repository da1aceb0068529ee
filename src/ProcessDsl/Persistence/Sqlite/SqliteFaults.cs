using Microsoft.Data.Sqlite;

namespace ProcessDsl;

/// <summary>What SQLite's result codes mean to the library (https://www.sqlite.org/rescode.html).</summary>
internal static class SqliteFaults
{
    private const int Busy = 5, Locked = 6, IoError = 10, Full = 13, Protocol = 15, Constraint = 19;
    private const int ConstraintPrimaryKey = 1555, ConstraintUnique = 2067;

    public static StoreFault Classify(Exception exception, StoreTables tables)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is not SqliteException sqlite) continue;
            return sqlite.SqliteErrorCode switch
            {
                // Another connection holds the lock, the disk hiccuped or is full: it passes. Not
                // CANTOPEN (a missing folder stays missing) nor CORRUPT, which would happen again.
                Busy or Locked or IoError or Full or Protocol => StoreFault.Transient,
                Constraint when sqlite.SqliteExtendedErrorCode == ConstraintPrimaryKey &&
                                sqlite.Message.Contains(tables.EventsName + ".notification_id", StringComparison.Ordinal) => StoreFault.NotificationIdViolation,
                Constraint when sqlite.SqliteExtendedErrorCode is ConstraintUnique or ConstraintPrimaryKey => StoreFault.UniqueViolation,
                _ => StoreFault.Permanent,
            };
        }
        return StoreFault.Permanent;
    }
}
