using System.Text.Json.Serialization;

namespace ProcessDsl;

/// <summary>
/// The JSON contracts of what a parent and its worker processes tell each other, generated at
/// compile time: no reflection, so workers of a Native AOT program read them too.
/// </summary>
[JsonSerializable(typeof(WorkerSettings))]
[JsonSerializable(typeof(WorkerError.Payload))]
internal sealed partial class WorkerJson : JsonSerializerContext;
