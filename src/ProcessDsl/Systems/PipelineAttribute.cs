namespace ProcessDsl;

/// <summary>
/// A pipeline of applications in a <see cref="ProcessSystemAttribute"/> system: each application
/// follows the one before it. <c>[Pipeline(typeof(Orders), typeof(Reservations), typeof(Orders))]</c>
/// makes Reservations follow Orders and Orders follow Reservations. Every entry after the first must
/// be a <see cref="ProcessApplication"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class PipelineAttribute(params Type[] applications) : Attribute
{
    /// <summary>The applications, leader first.</summary>
    public IReadOnlyList<Type> Applications { get; } = applications;
}
