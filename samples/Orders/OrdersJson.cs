using System.Text.Json.Serialization;
using ProcessDsl;

namespace OrdersSample;

/// <summary>
/// The JSON contracts of the sample's events (and of its status output), generated at compile time by
/// System.Text.Json. Given to <see cref="EventTopics.AddJsonTypeInfoResolver"/> at start-up, they
/// replace reflection: the program can be published with Native AOT (where reflection-based
/// serialization is off), and the first event of each type costs less. The stored JSON is the same
/// either way. Three events are named <c>Created</c>, so each gets a property name of its own.
/// </summary>
[JsonSerializable(typeof(Order.Created), TypeInfoPropertyName = "OrderCreated")]
[JsonSerializable(typeof(Order.Reserved))]
[JsonSerializable(typeof(Order.Paid))]
[JsonSerializable(typeof(Reservation.Created), TypeInfoPropertyName = "ReservationCreated")]
[JsonSerializable(typeof(Payment.Created), TypeInfoPropertyName = "PaymentCreated")]
[JsonSerializable(typeof(IReadOnlyList<ApplicationStatus>))]
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class OrdersJson : JsonSerializerContext;
