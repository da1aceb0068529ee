using ProcessDsl.Testing;
using ProcessDsl.Tests.Support;

namespace ProcessDsl.Tests;

/// <summary>The testing kit (ProcessDsl.Testing): a policy tested in a line, no runner, no database file.</summary>
public sealed class PolicyTestKitTests
{
    [Fact]
    public void Given_an_upstream_event_the_policy_collects_a_new_aggregate_stamped_by_the_test_clock()
    {
        using var test = PolicyTest.For(new Reservations(), upstream: "Orders");
        var orderId = Guid.NewGuid();
        test.Clock.Advance(TimeSpan.FromMinutes(5));
        test.Given(new Order.Created { OriginatorId = orderId });

        var created = Assert.IsType<Reservation.Created>(Assert.Single(test.NewEvents));
        Assert.Equal(orderId, created.OrderId);
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 5, 0, TimeSpan.Zero), created.Timestamp);
        Assert.Equal(orderId, test.Application.Repository.Get<Reservation>(created.OriginatorId).OrderId);
    }

    [Fact]
    public void Given_several_events_a_projection_ends_with_the_rows_they_make()
    {
        using var test = PolicyTest.For(new Summaries(), upstream: "Orders");
        var a = Guid.NewGuid();
        var b = Guid.NewGuid();
        test.Given(new Order.Created { OriginatorId = a }, new Order.Created { OriginatorId = b }, new Order.Paid(Guid.NewGuid()) { OriginatorId = a });

        var rows = test.Rows<OrderSummary>().ToDictionary(r => r.OrderId, r => r.Status);
        Assert.Equal("paid", rows[a]);
        Assert.Equal("new", rows[b]);
        Assert.Empty(test.NewEvents);
    }

    [Fact]
    public void A_policy_that_throws_is_reported_naming_the_event_and_stores_nothing()
    {
        using var test = PolicyTest.For(new Orders(), upstream: "Reservations");
        // Orders' policy gets the order it reserves: there is none, so it throws.
        var ex = Assert.Throws<ProcessingException>(() => test.Given(new Reservation.Created(Guid.NewGuid())));
        Assert.Equal(("Orders", "Reservations", 1L), (ex.Application, ex.Upstream, ex.NotificationId));
        Assert.IsType<AggregateNotFoundException>(ex.InnerException);
        Assert.Empty(test.NewEvents);
    }
}
