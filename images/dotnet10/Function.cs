using System.IO;
using System.Text;

namespace Hello;

public class Function
{
    // Stream in, stream out: no serializer package needed.
    public Stream Handler(Stream input)
    {
        return new MemoryStream(Encoding.UTF8.GetBytes("{\"message\":\"hello\"}"));
    }
}
