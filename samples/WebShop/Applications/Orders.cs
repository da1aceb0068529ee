using ProcessDsl;

namespace WebShop;

/// <summary>Takes orders, and marks them reserved and paid as reservations and payments arrive.</summary>
public sealed partial class Orders : ProcessApplication
{
    /// <summary>Places a new order for an amount and returns its id.</summary>
    public Guid CreateNewOrder(decimal amount)
    {
        var order = Order.Create(amount);
        Save(order);
        return order.Id;
    }

    /// <summary>Places a new order for an amount and returns its id, without holding the request's thread while it is stored.</summary>
    public async Task<Guid> CreateNewOrderAsync(decimal amount, CancellationToken cancellationToken)
    {
        var order = Order.Create(amount);
        await SaveAsync(order, cancellationToken);
        return order.Id;
    }

    /// <summary>Gets an order, or null when there is none with this id.</summary>
    public Order? FindOrder(Guid id) => Repository.Contains(id) ? Repository.Get<Order>(id) : null;

    /// <summary>Gets an order, or null when there is none with this id, without holding the request's thread while it is read.</summary>
    public async Task<Order?> FindOrderAsync(Guid id, CancellationToken cancellationToken)
    {
        try
        {
            return await Repository.GetAsync<Order>(id, cancellationToken);
        }
        catch (AggregateNotFoundException)
        {
            return null;
        }
    }

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
