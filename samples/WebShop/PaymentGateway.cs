using Microsoft.Extensions.Options;

namespace WebShop;

/// <summary>Settings of the shop (section <c>WebShop</c>).</summary>
public sealed class WebShopOptions
{
    /// <summary>The gateway declines payments above this amount (default 1000): such an order stops Payments, as a poisoned event would.</summary>
    public decimal PaymentLimit { get; set; } = 1000;
}

/// <summary>A stand-in for a card processor: the service the Payments application takes from the container.</summary>
public sealed class PaymentGateway(IOptions<WebShopOptions> options)
{
    /// <summary>Charges the amount of an order.</summary>
    /// <exception cref="InvalidOperationException">The amount is over the limit (every time: a deterministic failure).</exception>
    public void Charge(Guid orderId, decimal amount)
    {
        if (amount > options.Value.PaymentLimit)
            throw new InvalidOperationException($"Card declined for order {orderId}: {amount} is over the limit of {options.Value.PaymentLimit}.");
    }
}
