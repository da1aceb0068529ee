using Npgsql;

namespace ProcessDsl;

/// <summary>What PostgreSQL's SQLSTATEs and Npgsql's socket errors mean to the library.</summary>
internal static class PostgresFaults
{
    public static StoreFault Classify(Exception exception, StoreTables tables)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is PostgresException server)
            {
                var state = server.SqlState;
                if (state == PostgresErrorCodes.UniqueViolation)
                    return server.ConstraintName == tables.EventsName + "_pkey" ? StoreFault.NotificationIdViolation : StoreFault.UniqueViolation;
                // 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now, class 08 connection exceptions.
                if (state is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
                    || state.StartsWith("08", StringComparison.Ordinal))
                    return StoreFault.BrokenConnection;
                // 40 transaction rollback (serialization, deadlock), 53 insufficient resources, 57 operator
                // intervention, 58 system error, 55P03 lock not available.
                if (state.StartsWith("40", StringComparison.Ordinal) || state.StartsWith("53", StringComparison.Ordinal)
                    || state.StartsWith("57", StringComparison.Ordinal) || state.StartsWith("58", StringComparison.Ordinal)
                    || state == PostgresErrorCodes.LockNotAvailable)
                    return StoreFault.Transient;
                return StoreFault.Permanent;
            }
            // The socket failed under Npgsql (end of stream, reset, refused): not a server error.
            if (e is NpgsqlException { InnerException: IOException or System.Net.Sockets.SocketException or EndOfStreamException or TimeoutException })
                return StoreFault.BrokenConnection;
            if (e is NpgsqlException { IsTransient: true }) return StoreFault.Transient;
        }
        return StoreFault.Permanent;
    }
}
