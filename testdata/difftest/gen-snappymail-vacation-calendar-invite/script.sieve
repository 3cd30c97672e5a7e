require ["vacation"];

/*
BEGIN:FILTER:1f5d3c2b
BEGIN:HEADER
eyJJRCI6IjFmNWQzYzJiIiwiRW5hYmxlZCI6dHJ1ZSwiTmFtZSI6IlZhY2F0aW9uIn0=
END:HEADER
*/
if true
{
	vacation :days 1 :subject "Vacation" :addresses ["bob@example.com"] "I'm on vacation. I will respond as soon as possible.";
}
/* END:FILTER */
