using System.Data.Common;
using System.Net.Sockets;

namespace ProcessDsl;

/// <summary>
/// Tells passing faults (a conflict, a busy or unreachable database, a cut connection), which a
/// follower retries for as long as it takes, from failures that would happen again the same way,
/// which it pins to one event and reports.
/// </summary>
internal static class TransientFaults
{
    public static bool Is(Exception exception)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            switch (ex)
            {
                case TrackingConflictException or ConcurrencyException:
                case TimeoutException or IOException or SocketException:
                    return true;
                case DbException db when db.IsTransient || IsTransientState(db.SqlState) || IsTransientSqliteCode(db):
                    return true;
            }
        }
        return false;
    }

    // SQLSTATE classes: 08 connection exception, 40 transaction rollback, 53 insufficient resources,
    // 57 operator intervention (shutdown, restart), 58 system error; 55P03 lock not available.
    private static bool IsTransientState(string? state) =>
        state is { Length: 5 } && (state.StartsWith("08", StringComparison.Ordinal) || state.StartsWith("40", StringComparison.Ordinal)
            || state.StartsWith("53", StringComparison.Ordinal) || state.StartsWith("57", StringComparison.Ordinal)
            || state.StartsWith("58", StringComparison.Ordinal) || state == "55P03");

    // SQLite: BUSY, LOCKED, IOERR, FULL, CANTOPEN, PROTOCOL — the file is busy or has gone away.
    private static bool IsTransientSqliteCode(DbException db) =>
        db is Microsoft.Data.Sqlite.SqliteException sqlite && sqlite.SqliteErrorCode is 5 or 6 or 10 or 13 or 14 or 15;
}
