using ProcessDsl;

namespace WebShop;

/// <summary>
/// Takes a payment for every reserved order through the <see cref="PaymentGateway"/>, a service
/// from the container: the host builds this application with it.
/// </summary>
public sealed partial class Payments : ProcessApplication
{
    private readonly PaymentGateway? _gateway;

    /// <summary>For runners without a container (and the generator of this version); takes no payments.</summary>
    public Payments()
    {
    }

    /// <summary>The constructor the container uses.</summary>
    [Microsoft.Extensions.DependencyInjection.ActivatorUtilitiesConstructor]
    public Payments(PaymentGateway gateway) => _gateway = gateway;

    [Policy(typeof(Order.Reserved))]
    void OnReserved(Order.Reserved e, ProcessingEvent processing)
    {
        var gateway = _gateway ?? throw new InvalidOperationException("Payments needs a PaymentGateway: run it with AddProcessDsl, which builds it through the container.");
        gateway.Charge(e.OriginatorId, e.Amount);
        processing.Collect(Payment.Create(e.OriginatorId));
    }
}
