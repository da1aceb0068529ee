namespace ProcessDsl;

/// <summary>
/// Marks a <c>static partial class</c> as a system of applications; its
/// <see cref="PipelineAttribute"/>s say who follows whom. The source generator adds
/// <c>public static SystemDefinition Definition</c> to the class.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ProcessSystemAttribute : Attribute;
