using ProcessDsl;

namespace WebShop;

/// <summary>Reserves stock for every new order.</summary>
public sealed partial class Reservations : ProcessApplication
{
    [Policy(typeof(Order.Created))]
    void OnCreated(Order.Created e, ProcessingEvent processing) =>
        processing.Collect(Reservation.Create(e.OriginatorId));
}
