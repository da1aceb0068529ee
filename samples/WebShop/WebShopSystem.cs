using ProcessDsl;

namespace WebShop;

/// <summary>
/// Orders are reserved by Reservations and paid by Payments; Orders follows both to record it,
/// and Summaries keeps a row per order.
/// </summary>
[ProcessSystem]
[Pipeline(typeof(Orders), typeof(Reservations), typeof(Orders), typeof(Payments), typeof(Orders))]
[Pipeline(typeof(Orders), typeof(Summaries))]
public static partial class WebShopSystem;
