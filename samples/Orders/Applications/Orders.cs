using ProcessDsl;

namespace OrdersSample;

/// <summary>Takes orders, and marks them reserved and paid as reservations and payments arrive.</summary>
public sealed partial class Orders : ProcessApplication
{
    /// <summary>Places a new order and returns its id.</summary>
    public Guid CreateNewOrder()
    {
        var order = Order.Create();
        Save(order);
        return order.Id;
    }

    /// <summary>Gets an order.</summary>
    public Order GetOrder(Guid id) => Repository.Get<Order>(id);

    [Policy(typeof(Reservation.Created))]
    void OnReserved(Reservation.Created e, ProcessingEvent processing)
    {
        var order = Repository.Get<Order>(e.OrderId);
        order.SetReserved(e.OriginatorId);
        processing.Collect(order);
    }

    [Policy(typeof(Payment.Created))]
    void OnPaid(Payment.Created e, ProcessingEvent processing)
    {
        var order = Repository.Get<Order>(e.OrderId);
        order.SetPaid(e.OriginatorId);
        processing.Collect(order);
    }
}
