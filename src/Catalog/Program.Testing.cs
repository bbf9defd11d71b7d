// Lets WebApplicationFactory<Program> find the entry point from the tests.
public partial class Program;
