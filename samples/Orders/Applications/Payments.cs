using ProcessDsl;

namespace OrdersSample;

/// <summary>Takes a payment for every reserved order.</summary>
public sealed partial class Payments : ProcessApplication
{
    [Policy(typeof(Order.Reserved))]
    void OnReserved(Order.Reserved e, ProcessingEvent processing) =>
        processing.Collect(Payment.Create(e.OriginatorId));
}
