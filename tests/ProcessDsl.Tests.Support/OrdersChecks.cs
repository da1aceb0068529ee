namespace ProcessDsl.Tests.Support;

/// <summary>Checks that an orders system did everything exactly once.</summary>
public static class OrdersChecks
{
    public static void AllReservedAndPaidExactlyOnce(Runner runner, IReadOnlyCollection<Guid> orderIds)
    {
        var orders = runner.Get<Orders>();
        var ordersLog = Contiguous(orders.NotificationLog);
        var reservationsLog = Contiguous(runner.Get<Reservations>().NotificationLog);
        var paymentsLog = Contiguous(runner.Get<Payments>().NotificationLog);

        Assert.Equal(orderIds.Count, reservationsLog.Count);
        Assert.Equal(orderIds.Count, paymentsLog.Count);
        Assert.Equal(orderIds.Count * 3, ordersLog.Count);

        var reservedOrders = reservationsLog.Select(n => ((Reservation.Created)EventTopics.Deserialize(n)).OrderId).ToList();
        var paidOrders = paymentsLog.Select(n => ((Payment.Created)EventTopics.Deserialize(n)).OrderId).ToList();
        Assert.Equal(orderIds.OrderBy(x => x), reservedOrders.OrderBy(x => x));
        Assert.Equal(orderIds.OrderBy(x => x), paidOrders.OrderBy(x => x));

        foreach (var id in orderIds)
        {
            var order = orders.GetOrder(id);
            Assert.Equal(3, order.Version);
            Assert.NotNull(order.ReservationId);
            Assert.NotNull(order.PaymentId);
        }

        // No tracking position is ahead of its upstream's log, and every follower is caught up.
        foreach (var app in SystemStatus.Read(runner.Definition, runner.Persistence))
        {
            foreach (var follower in app.Following)
            {
                var head = runner.Get(follower.Upstream).NotificationLog.MaxNotificationId;
                Assert.True(follower.Position <= head, $"{app.Application} is at {follower.Position} of {follower.Upstream}, whose log ends at {head}");
                Assert.Equal(head, follower.Position);
            }
        }

        var paidRows = runner.Get<Summaries>().Query<OrderSummary>().Where(s => s.Status == "paid").Select(s => s.OrderId).ToList();
        Assert.Equal(orderIds.OrderBy(x => x), paidRows.OrderBy(x => x));
        Assert.Equal(orderIds.Count, runner.Get<Summaries>().Query<OrderSummary>().Count());
    }

    /// <summary>Reads a whole log and checks its ids are 1..n.</summary>
    public static IReadOnlyList<Notification> Contiguous(INotificationLog log)
    {
        var all = new NotificationLogReader(log).Read();
        for (var i = 0; i < all.Count; i++) Assert.Equal(i + 1, all[i].Id);
        return all;
    }
}
