namespace ProcessDsl.Tests;

/// <summary>Workers run with tiered compilation off, unless something already says how to compile.</summary>
public sealed class WorkerRuntimeTests
{
    private static readonly Func<string, string?> NoParentVariables = _ => null;

    [Fact]
    public void Workers_get_tiered_compilation_off()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        WorkerRuntime.Configure(environment, NoParentVariables, configuredTiering: null);
        Assert.Equal("0", Assert.Single(environment, e => e.Key == "DOTNET_TieredCompilation").Value);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Workers_keep_what_the_program_configures(bool tiered)
    {
        // <TieredCompilation> in the program's project (its runtimeconfig.json), either way.
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        WorkerRuntime.Configure(environment, NoParentVariables, configuredTiering: tiered);
        Assert.Empty(environment);
    }

    [Theory]
    [InlineData("DOTNET_TieredCompilation")]
    [InlineData("COMPlus_TieredCompilation")]
    public void A_setting_given_for_the_workers_wins(string variable)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { [variable] = "1" };
        WorkerRuntime.Configure(environment, NoParentVariables, configuredTiering: null);
        Assert.Equal("1", Assert.Single(environment).Value);
    }

    [Theory]
    [InlineData("DOTNET_TieredCompilation")]
    [InlineData("COMPlus_TieredCompilation")]
    public void A_setting_in_the_parent_environment_is_left_to_the_workers_to_inherit(string variable)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        WorkerRuntime.Configure(environment, name => name == variable ? "1" : null, configuredTiering: null);
        Assert.Empty(environment);
    }

    [Fact]
    public void Precompiled_assemblies_are_told_from_IL_only_ones()
    {
        // The shared framework ships ReadyToRun; packages such as LinqToDB and this test assembly are IL only.
        Assert.True(WorkerRuntime.IsPrecompiled(typeof(object).Assembly.Location));
        Assert.False(WorkerRuntime.IsPrecompiled(typeof(LinqToDB.Data.DataConnection).Assembly.Location));
        Assert.False(WorkerRuntime.IsPrecompiled(typeof(WorkerRuntimeTests).Assembly.Location));
    }
}
