require ["vacation","vacation-seconds"];

/*
BEGIN:FILTER:77aa
BEGIN:HEADER
eyJJRCI6Ijc3YWEifQ==
END:HEADER
*/
if true
{
	vacation :seconds 3600 :subject "Auto" :addresses ["bob@example.com"] "Auto reply.";
}
/* END:FILTER */
