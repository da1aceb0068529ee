namespace ProcessDsl;

/// <summary>
/// Marks an instance method <c>void M(E e)</c> of a <c>partial</c> <see cref="Aggregate"/> that
/// applies event type <c>E</c> to the aggregate's state. The source generator compiles all of an
/// aggregate's <c>[Apply]</c> methods into its apply table (<see cref="Aggregate.ApplyEvent"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class ApplyAttribute : Attribute;
